"""run_sweep: keras-tuner sweeps of the numbers models through the Estimator and through fit,
with a leaderboard, the best params, the best export, and resume after a crash."""

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from keras_estimator.numbers import build_model, input_fn
from keras_estimator.tuning import SpecError, SweepSpec, load_spec, run_sweep

TINY = {
    "data": {"lang": "en", "max_num": 10_000, "pool_size": 500, "eval_size": 64},
    "search_space": {"model": ["gru", "cnn"], "units": 8, "embedding_dim": 4, "layers": 1, "batch_size": 16},
}


def tiny_spec(**sweep):
    return SweepSpec.from_dict({"sweep": {"name": "tiny", "max_trials": 2, "steps_per_trial": 6,
                                          "eval_steps": 2, **sweep}, **TINY})


def check_outputs(result, spec):
    """The files a sweep promises: leaderboard (table rows, CSV, JSON), best params, export."""
    rows = result.leaderboard
    assert [r["status"] for r in rows] == ["COMPLETED"] * len(rows)
    scores = [r["objective"] for r in rows]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    assert all(r["seconds"] > 0 and r["model"] in ("gru", "cnn") for r in rows)
    with open(os.path.join(result.directory, "leaderboard.json")) as f:
        assert json.load(f) == rows
    with open(os.path.join(result.directory, "leaderboard.csv")) as f:
        assert [r["trial"] for r in csv.DictReader(f)] == [r["trial"] for r in rows]

    with open(result.best_params_path) as f:
        best = json.load(f)
    assert best == result.best_params
    assert best["model"] == rows[0]["model"] and best["batch_size"] == 16 and best["lang"] == "en"
    build_model(best)  # What the training command takes: input_fn and build_model params.
    next(iter(input_fn(best)))

    served = tf.saved_model.load(result.export_path).signatures["serving_default"](
        words=tf.constant(["forty-two", "seven"]))
    assert served["parity"].shape == (2, 1) and np.all((served["parity"].numpy() >= 0) & (served["parity"].numpy() <= 1))


@pytest.mark.parametrize("mode", ["estimator", "fit"])
def test_two_trial_sweep_writes_leaderboard_best_params_and_export(tmp_path, mode, capsys):
    spec = tiny_spec(mode=mode)
    result = run_sweep(spec, directory=tmp_path / "sweep")
    assert result.trials_run == 2 and len(result.leaderboard) == 2
    assert [r["steps"] for r in result.leaderboard] == [6, 6]
    check_outputs(result, spec)
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "best params:" in printed and result.export_path in printed
    if mode == "estimator":  # Each trial trained through its own Estimator model_dir.
        for row in result.leaderboard:
            ckpt = tf.train.latest_checkpoint(str(tmp_path / "sweep" / "trials" / f"trial_{row['trial']}" / "model_dir"))
            assert ckpt is not None and ckpt.endswith("-6")


def test_bayesian_and_hyperband_oracles_through_the_estimator(tmp_path):
    result = run_sweep(tiny_spec(oracle="bayesian"), directory=tmp_path / "bayesian", print_fn=None)
    assert result.trials_run == 2
    check_outputs(result, None)

    spec = tiny_spec(oracle="hyperband", max_epochs=2, hyperband_factor=2)
    result = run_sweep(spec, directory=tmp_path / "hyperband", print_fn=None)
    # Hyperband: first-bracket trials train 3 steps (one "epoch"), the promoted ones continue
    # from the earlier trial's checkpoint to 6.
    assert sorted({r["steps"] for r in result.leaderboard}) == [3, 6]
    check_outputs(result, spec)


_KILL_AFTER_FIRST_TRIAL = textwrap.dedent("""
    import os, signal, sys
    from keras_estimator.tuning import SweepSpec, run_sweep
    spec = SweepSpec.from_dict({spec!r})

    def crash(trial):  # Killed like a reboot: right after the first trial was recorded.
        os.kill(os.getpid(), signal.SIGKILL)

    run_sweep(spec, directory=sys.argv[1], on_trial_end=crash)
""")


def test_a_killed_sweep_resumes_and_runs_only_the_remaining_trial(tmp_path):
    spec = tiny_spec()
    script = _KILL_AFTER_FIRST_TRIAL.format(spec=spec.to_dict())
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "sweep")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert not (tmp_path / "sweep" / "leaderboard.json").exists()

    result = run_sweep(spec, directory=tmp_path / "sweep", print_fn=None)
    assert result.trials_run == 1
    assert len(result.leaderboard) == 2
    check_outputs(result, spec)

    # Raising max_trials (the one field that may change) extends the finished sweep.
    result = run_sweep(tiny_spec(max_trials=3), directory=tmp_path / "sweep", print_fn=None)
    assert result.trials_run == 1 and len(result.leaderboard) == 3


def test_bad_spec_files_raise_spec_errors_naming_the_field(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        run_sweep(tmp_path / "missing.toml", directory=tmp_path / "out")
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\noracle = "grid"\n')
    with pytest.raises(SpecError, match=r"\[sweep\]\.oracle"):
        run_sweep(bad, directory=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_resuming_under_a_changed_spec_is_refused(tmp_path):
    directory = tmp_path / "sweep"
    directory.mkdir()
    (directory / "spec.json").write_text(json.dumps(tiny_spec().to_dict()))
    with pytest.raises(SpecError, match=r"\[sweep\]\.steps_per_trial changed.*overwrite=True"):
        run_sweep(tiny_spec(steps_per_trial=7), directory=directory)
    assert sorted(p.name for p in directory.iterdir()) == ["spec.json"]


@pytest.mark.parametrize("path", ["tuning/parity_en.toml", "tuning/parity_de.toml"])
def test_shipped_sweep_specs_load(path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = load_spec(os.path.join(root, path))
    assert spec.name == os.path.splitext(os.path.basename(path))[0] and spec.mode == "estimator"
