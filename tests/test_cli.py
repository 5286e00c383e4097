"""The keras-estimator command line, run as users run it: in a subprocess, on tiny budgets."""

import json
import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from keras_estimator.cli import main

SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-estimator")
TINY = ["--units", "8", "--embedding-dim", "4", "--batch-size", "16", "--eval-steps", "2"]


# The environment a user's shell gives: no TensorFlow log level (the test run sets one).
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def cli(*args, stdin=None, cwd=None, timeout=300):
    """Runs `python -m keras_estimator ARGS`; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "keras_estimator", *map(str, args)], input=stdin, cwd=cwd,
                          env=ENV, capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(done, *fragments):
    """A user mistake: exit status 1, one line on stderr naming the problem, no traceback."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(autouse=True)
def runtime_log_level():
    """`main` sets the runtime logger's level, as a program's entry point may; tests calling it
    in this process put it back for the tests that run after them."""
    logger = logging.getLogger("keras_estimator")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model_dir trained by `train` through the Estimator path, and that run's output."""
    model_dir = tmp_path_factory.mktemp("cli") / "parity"
    done = cli("train", "--model-dir", model_dir, "--steps", 30, "--save-checkpoints-steps", 10, *TINY)
    assert done.returncode == 0, done.stderr
    return model_dir, done


def test_help_of_every_subcommand():
    for command in ([], ["demo"], ["train"], ["evaluate"], ["predict"], ["export"], ["tune"]):
        done = cli(*command, "--help", timeout=60)
        assert done.returncode == 0 and done.stdout.startswith("usage: keras-estimator"), done.stderr
    assert "--model-dir" in cli("train", "--help").stdout and "--hparams" in cli("train", "--help").stdout


def test_usage_errors_exit_2_with_argparse_usage():
    done = cli("train", "--steps", "0", timeout=60)
    assert done.returncode == 2 and "--model-dir" in done.stderr and "Traceback" not in done.stderr
    done = cli("frobnicate", timeout=60)
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_train_through_the_estimator_logs_checkpoints_and_reports_metrics(trained):
    model_dir, done = trained
    # Not a terminal: plain log lines, every 2 steps of 30 here, the last at step 30.
    lines = [line for line in done.stdout.splitlines() if line.startswith("step ")]
    assert lines[-1].startswith("step 30/30") and all("steps/s" in line and "ETA" in line for line in lines)
    assert "global_step  30" in done.stdout and "accuracy" in done.stdout
    assert tf.train.latest_checkpoint(str(model_dir)).endswith("model.ckpt-30")
    assert any(n.startswith("events.out.tfevents") for n in os.listdir(model_dir))  # TensorBoard.
    params = json.loads((model_dir / "params.json").read_text())
    assert params["units"] == 8 and params["lang"] == "en" and params["targets"] == ["parity"]

    more = cli("train", "--model-dir", model_dir, "--steps", 4, "--eval-steps", 1)  # Resumes: params kept.
    assert more.returncode == 0, more.stderr
    assert "global_step  34" in more.stdout


def test_evaluate_predict_and_export(trained, tmp_path):
    model_dir, _ = trained
    done = cli("evaluate", "--model-dir", model_dir, "--steps", 2)
    assert done.returncode == 0, done.stderr
    metrics = dict(line.split() for line in done.stdout.strip().splitlines())
    assert set(metrics) == {"accuracy", "loss", "global_step"} and 0 <= float(metrics["accuracy"]) <= 1

    by_args = cli("predict", "--model-dir", model_dir, "forty-two", "Seven")
    by_stdin = cli("predict", "--model-dir", model_dir, stdin="forty-two\n\nSeven\n")
    assert by_args.returncode == 0 and by_stdin.returncode == 0, by_args.stderr + by_stdin.stderr
    assert by_args.stdout == by_stdin.stdout
    header, _, *rows = by_args.stdout.strip().splitlines()
    assert header.split() == ["words", "parity"]
    assert [r.split()[0] for r in rows] == ["forty-two", "Seven"]
    assert all(r.split()[1] in ("odd", "even") for r in rows)

    done = cli("export", "--model-dir", model_dir, "--out", tmp_path / "exports")
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip()
    assert os.path.dirname(path) == str(tmp_path / "exports") and os.path.basename(path).isdigit()
    served = tf.saved_model.load(path).signatures["serving_default"](words=tf.constant(["forty-two", "Seven"]))
    # The table shows the export's answer: the same probabilities, to the 2 decimals printed.
    shown = [float(r.split("(")[1].rstrip(")")) for r in rows]
    probabilities = served["parity"].numpy()[:, 0]
    np.testing.assert_allclose(shown, np.maximum(probabilities, 1 - probabilities), atol=0.006)


def test_fit_path_trains_evaluates_predicts_and_exports(tmp_path):
    model_dir = tmp_path / "fit"
    done = cli("train", "--model-dir", model_dir, "--path", "fit", "--steps", 20, *TINY)
    assert done.returncode == 0, done.stderr
    assert "global_step  20" in done.stdout and (model_dir / "fit" / "model.keras").exists()
    done = cli("predict", "--model-dir", model_dir, "one hundred and one")
    assert done.returncode == 0 and "one hundred and one" in done.stdout, done.stderr
    done = cli("export", "--model-dir", model_dir, "--out", tmp_path / "exports")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert tf.saved_model.load(done.stdout.strip()).signatures["serving_default"](words=tf.constant(["ten"]))
    done = cli("train", "--model-dir", model_dir, "--steps", 2)  # The other path into the same dir.
    assert_one_line_error(done, "--path fit", "new --model-dir")


def test_user_mistakes_are_one_line_errors(trained, tmp_path):
    model_dir, _ = trained
    assert_one_line_error(cli("train", "--model-dir", tmp_path / "x", "--lang", "xx"), "unknown language 'xx'")
    assert not (tmp_path / "x").exists()  # Nothing written.

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "params.json").write_text('{"lang": "en"}')  # Written by train, killed before a checkpoint.
    assert_one_line_error(cli("evaluate", "--model-dir", empty), "no checkpoint", "train first")
    assert_one_line_error(cli("train", "--model-dir", tmp_path / "y", "--hparams", tmp_path / "missing.json"),
                          "cannot read hparams file", "missing.json")
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory")
    assert_one_line_error(cli("train", "--model-dir", a_file, "--steps", 1), "--model-dir", "is not a directory")
    assert a_file.read_text() == "not a directory"


def test_user_mistakes_in_process(trained, tmp_path, capsys):
    """The remaining checks through `main` itself (the same code, without a process each)."""
    model_dir, _ = trained

    def error(*args):
        assert main([str(a) for a in args]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        return err

    assert "lang='en' (asked 'de')" in error("train", "--model-dir", model_dir, "--lang", "de", "--steps", 1)
    assert "units=8 (asked 16)" in error("train", "--model-dir", model_dir, "--units", 16, "--steps", 1)
    assert "Unknown target(s) ['colour']" in error("train", "--model-dir", tmp_path / "t", "--targets", "colour")
    assert "unknown model 'lstm'" in error("train", "--model-dir", tmp_path / "t", "--model", "lstm")
    hp = tmp_path / "hp.json"
    hp.write_text('{"units": 8, "colour": "red"}')
    assert "unknown param(s) colour" in error("train", "--model-dir", tmp_path / "t", "--hparams", hp)
    hp.write_text("[1, 2]")
    assert "must hold a JSON object" in error("train", "--model-dir", tmp_path / "t", "--hparams", hp)
    assert not (tmp_path / "t").exists()
    hp.write_text('{"units": 8,')
    assert "not valid JSON" in error("train", "--model-dir", tmp_path / "t", "--hparams", hp)

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "not written by keras-estimator train" in error("evaluate", "--model-dir", empty)
    (empty / "params.json").write_text('{"lang": "en"}')
    assert "no checkpoint" in error("predict", "--model-dir", empty, "ten")
    assert "no checkpoint" in error("export", "--model-dir", empty, "--out", tmp_path / "e")
    assert "does not exist" in error("export", "--model-dir", tmp_path / "nowhere", "--out", tmp_path / "e")
    assert not (tmp_path / "e").exists()
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert "--model-dir" in error("train", "--model-dir", a_file / "below", "--steps", 1)
    assert "which is a file" in error("train", "--model-dir", a_file / "below", "--steps", 1)
    assert "--out" in error("export", "--model-dir", model_dir, "--out", a_file / "exports")
    assert "--out" in error("export", "--model-dir", model_dir, "--out", a_file)
    assert "--directory" in error("tune", tmp_path / "spec.toml", "--directory", a_file)
    assert a_file.read_text() == "x"
    bad_spec = tmp_path / "bad.toml"
    bad_spec.write_text('[sweep]\noracle = "grid"\n')
    assert "[sweep].oracle" in error("tune", bad_spec)
    assert "spec file not found" in error("tune", tmp_path / "missing.toml")


_SPEC = """
[sweep]
max_trials = 2
steps_per_trial = 6
eval_steps = 2

[data]
max_num = 10000
pool_size = 500
eval_size = 64

[search_space]
model = ["gru", "cnn"]
units = 8
embedding_dim = 4
batch_size = 16
"""


def test_tune_then_train_with_the_best_params(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(textwrap.dedent(_SPEC))
    done = cli("tune", spec, "--directory", tmp_path / "sweep", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "accuracy" in done.stdout and "best params:" in done.stdout
    best = tmp_path / "sweep" / "best_params.json"
    assert best.exists() and (tmp_path / "sweep" / "export").is_dir()
    # The sweep's best params are what train --hparams takes.
    done = cli("train", "--model-dir", tmp_path / "best", "--hparams", best, "--steps", 3, "--eval-steps", 1)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "best" / "params.json").read_text())["model"] == json.loads(best.read_text())["model"]


def test_demo_via_the_console_script(tmp_path):
    """`make demo` runs this script; fewer steps here than the default, the same 95% bar."""
    done = subprocess.run([SCRIPT, "demo", "--steps", "100"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "words" in out and "export says" in out and "Forty-Two" in out
    accuracy = float(out.split("accuracy on 2000 held-out numbers: ")[1].split("%")[0])
    assert accuracy >= 95.0
    assert "model_dir: runs/demo" in out and (tmp_path / "runs" / "demo" / "checkpoint").exists()
    assert len(os.listdir(tmp_path / "exports" / "demo")) == 1
