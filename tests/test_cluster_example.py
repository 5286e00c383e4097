"""examples/cluster: the local-cluster launcher runs the numbers model with a chief, a worker
and an evaluator (one process each, loopback ports) to the end, and the export serves words."""

import os
import subprocess
import sys

import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.path.join(ROOT, "examples", "cluster", "run_local.py")


def test_local_cluster_trains_evaluates_and_exports_the_numbers_model(tmp_path):
    model_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, LAUNCHER, "--model-dir", str(model_dir), "--timeout", "240", "--",
         "--max-steps", "40", "--save-checkpoints-steps", "20", "--throttle-secs", "0", "--units", "8"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout[done.stdout.rindex("task "):].splitlines()
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert set(rows) == {"chief:0", "worker:0", "evaluator:0"}
    assert all(row[1] == "0" and row[2] == "40" for row in rows.values())  # Exit 0 at step 40.
    assert "accuracy=" in " ".join(rows["evaluator:0"])
    assert "I0000" not in done.stdout  # TensorFlow's C++ start-up lines are hidden.
    # The evaluator's best export serves raw words.
    exports = sorted(os.listdir(model_dir / "export" / "best"))
    loaded = tf.saved_model.load(str(model_dir / "export" / "best" / exports[-1]))
    served = loaded.signatures["serving_default"](tf.constant(["forty two", "seven"]))
    assert all(v.shape[0] == 2 for v in served.values())


def test_a_failing_task_stops_the_cluster_with_a_clear_error(tmp_path):
    (tmp_path / "run").write_text("not a directory")  # Every task refuses this model_dir.
    done = subprocess.run(
        [sys.executable, LAUNCHER, "--model-dir", str(tmp_path / "run"), "--timeout", "120", "--", "--max-steps", "4"],
        capture_output=True, text=True, timeout=200,
    )
    assert done.returncode == 1
    assert "failed; the other tasks were stopped" in done.stderr
    assert "exists and is not a directory" in done.stdout
