"""Multi-worker training: a chief and a worker (MultiWorkerMirroredStrategy, TF_CONFIG) on
loopback ports, one process each, killed if they overrun the timeout."""

import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from keras_estimator.cluster import local_cluster

SCRIPT = os.path.join(os.path.dirname(__file__), "multiworker_script.py")
TIMEOUT = 180


def run_cluster(model_dir, max_steps, mode="train", evaluator=False):
    """Runs the tasks to their end; returns their JSON reports (chief, worker[, evaluator])."""
    cluster = local_cluster(workers=1, evaluator=evaluator)
    tasks = []
    for task_type in ("chief", "worker") + (("evaluator",) if evaluator else ()):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": 0}})}
        tasks.append(subprocess.Popen([sys.executable, SCRIPT, str(model_dir), str(max_steps), mode], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    reports = []
    try:
        for task in tasks:
            out, err = task.communicate(timeout=TIMEOUT)
            assert task.returncode == 0, err[-3000:]
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for task in tasks:
            task.kill()
    return reports


def test_a_killed_worker_makes_the_chief_fail_clearly(tmp_path):
    """tf.estimator 2.15's chief waited for ever; here it fails within the timeout, saying why."""
    import time

    cluster = local_cluster(workers=1)
    model_dir = tmp_path / "model"
    tasks = {}
    for task_type in ("chief", "worker"):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": 0}})}
        tasks[task_type] = subprocess.Popen([sys.executable, SCRIPT, str(model_dir), "1000000"], env=env,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while tf.train.latest_checkpoint(str(model_dir)) is None:  # Training is under way.
            assert time.monotonic() < deadline and tasks["chief"].poll() is None, tasks["chief"].stderr.read()[-3000:]
            time.sleep(0.5)
        tasks["worker"].kill()
        killed = time.monotonic()
        _, err = tasks["chief"].communicate(timeout=90)
        assert time.monotonic() - killed < 60
        assert tasks["chief"].returncode != 0
        assert "stopped responding" in err and "resumes from the chief's last checkpoint" in err, err[-3000:]
        assert tf.train.latest_checkpoint(str(model_dir)) is not None  # The last good state stays.
    finally:
        for task in tasks.values():
            task.kill()


def test_train_and_evaluate_with_chief_worker_and_evaluator_then_a_restart(tmp_path):
    from keras_estimator import read_eval_metrics
    from keras_estimator.exporters import export_dirs

    model_dir = tmp_path / "model"
    chief, worker, evaluator = run_cluster(model_dir, 8, "train_and_evaluate", evaluator=True)
    # Training tasks return where training ended; they stop together with the same weights.
    assert chief["result"]["global_step"] == worker["result"]["global_step"] == 8
    assert chief["result"]["loss"] == pytest.approx(worker["result"]["loss"])
    assert chief["exports"] == worker["exports"] == []
    assert chief["digest"] == worker["digest"] == evaluator["digest"]
    assert evaluator["replicas"] == 1  # The evaluator needs no strategy of its own.
    # The evaluator evaluated the final checkpoint, returned its results and stopped.
    assert evaluator["result"]["global_step"] == evaluator["step"] == 8
    evaluated = read_eval_metrics(model_dir / "eval")
    assert max(evaluated) == 8 and evaluator["result"]["loss"] == pytest.approx(evaluated[8]["loss"])
    assert set(evaluated) <= {2, 4, 6, 8}
    # The exporter ran once per evaluation; the final export is what the evaluator returned.
    exports = export_dirs(str(model_dir / "export" / "latest"))
    assert len(exports) == len(evaluated) and evaluator["exports"] == [exports[-1]]
    # Only the chief wrote training state; the evaluator only eval/ and export/.
    assert tf.train.latest_checkpoint(str(model_dir)).endswith("model.ckpt-8")
    events = [n for n in os.listdir(model_dir) if n.startswith("events.out.tfevents")]
    assert events and all(f".{chief['pid']}." in n for n in events)
    assert all(f".{evaluator['pid']}." in n for n in os.listdir(model_dir / "eval"))
    assert json.loads((model_dir / "training_end.json").read_text()) == {"global_step": 8, "max_steps": 8}

    # A restarted cluster (chief and worker training on) resumes from the chief's last checkpoint,
    # and again only the chief writes.
    chief, worker = run_cluster(model_dir, 10)
    assert chief["replicas"] == worker["replicas"] == 2
    assert chief["step"] == worker["step"] == 10 and chief["digest"] == worker["digest"]
    assert tf.train.latest_checkpoint(str(model_dir)).endswith("model.ckpt-10")
    events = [n for n in os.listdir(model_dir) if n.startswith("events.out.tfevents")]
    assert any(f".{chief['pid']}." in n for n in events) and not any(f".{worker['pid']}." in n for n in events)


def test_early_stopping_across_tasks_ends_every_task(tmp_path):
    """A stop hook that fires on one task stops all of them at the same step, and the evaluator
    takes the chief's last checkpoint as the final one instead of waiting for max_steps."""
    chief, worker, evaluator = run_cluster(tmp_path / "model", 1000, "early_stop", evaluator=True)
    stopped = chief["result"]["global_step"]
    assert 2 <= stopped < 1000 and worker["result"]["global_step"] == stopped
    assert chief["digest"] == worker["digest"] == evaluator["digest"]
    assert evaluator["result"]["global_step"] == stopped
