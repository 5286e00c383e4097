# `make test` is the one test command: it creates .venv when missing, installs the project with
# its test extra, and runs pytest. CI (.ci/run) calls exactly this.
PYTHON ?= python3
# Test processes (pytest-xdist); a test file stays in one process, so module fixtures are built once.
TEST_WORKERS ?= 2
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test test-deep test-faults demo bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

test: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The main job on the embedded default: English parity trained, evaluated, exported and served.
demo: $(STAMP)
	$(VENV)/bin/keras-estimator demo

# The property suite with the deep hypothesis profile: at least 500 examples per property.
test-deep: $(STAMP)
	HYPOTHESIS_PROFILE=deep TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest tests/properties $(PYTEST_ARGS)

# The fault-injection suite in full: at least 50 SIGKILLs of training, export,
# train_and_evaluate and sweep processes (make test runs a quick subset). FAULT_SEED=N varies them.
test-faults: $(STAMP)
	FAULTS=full TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest tests/faults $(PYTEST_ARGS)

# Benchmarks measure speed (never timed tests): one table, written to bench/RESULTS.md.
# bench/first_call.py compares with tf.estimator 2.15 itself, from its own virtualenv.
TF215 := .venv-tf215
TF215_STAMP := $(TF215)/.installed

$(TF215_STAMP):
	test -x $(TF215)/bin/python || $(PYTHON) -m venv $(TF215)
	$(TF215)/bin/python -m pip install --quiet "tensorflow-cpu==2.15.1" "tensorflow-estimator==2.15.0"
	touch $(TF215_STAMP)

bench: $(STAMP) $(TF215_STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 $(PY) bench/run.py

clean:
	rm -rf $(VENV) $(TF215) build *.egg-info src/*.egg-info .pytest_cache
