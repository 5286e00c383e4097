"""Estimator training in one process against a two-worker cluster (chief + worker under
MultiWorkerMirroredStrategy on loopback ports, one process each) on the same machine.

Every task trains the numbers GRU on the same fixed batches, `BATCH` per replica: one process
steps on BATCH examples, the cluster on 2 x BATCH (one batch per worker). Figures are the best
of three `train(steps=...)` calls after a warm-up call; the two setups alternate over rounds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import common
from keras_estimator.cluster import local_cluster

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 64


def measure(model_dir: str, steps: int) -> dict:
    """In this process (TF_CONFIG from the environment): steps/s of Estimator.train."""
    import tensorflow as tf

    import keras_estimator as ke
    from training import numbers_gru_model_fn

    # The strategy first: collective ops must be configured before any other TensorFlow op.
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if os.environ.get("TF_CONFIG") else None
    features, labels, width = common.fixed_batches({**common.PARAMS, "batch_size": BATCH}, count=8)
    dataset = common.dataset_of(features, labels)
    config = ke.RunConfig(tf_random_seed=0, train_distribute=strategy, log_step_count_steps=None)
    estimator = ke.Estimator(numbers_gru_model_fn, model_dir, config,
                             {"vocab_size": 64, "units": common.PARAMS["units"]})
    estimator.train(lambda: dataset, steps=2)  # Build, trace, first checkpoint.
    seconds = min(common.timed(lambda: estimator.train(lambda: dataset, steps=steps)) for _ in range(3))
    replicas = strategy.num_replicas_in_sync if strategy else 1
    return {"steps_per_s": steps / seconds, "examples_per_s": steps * BATCH * replicas / seconds,
            "replicas": replicas, "width": width}


def _launch(model_dir: str, steps: int, tf_config: str | None) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    if tf_config:
        env["TF_CONFIG"] = tf_config
    return subprocess.Popen([sys.executable, __file__, model_dir, str(steps)], env=env, cwd=HERE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _report(process: subprocess.Popen, what: str) -> dict:
    out, err = process.communicate(timeout=900)
    if process.returncode != 0:
        raise RuntimeError(f"multiworker benchmark ({what}) failed:\n{err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def one_process(steps: int) -> dict:
    model_dir = tempfile.mkdtemp(prefix="bench_single_")
    try:
        return _report(_launch(model_dir, steps, None), "one process")
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)


def two_workers(steps: int) -> dict:
    model_dir = tempfile.mkdtemp(prefix="bench_cluster_")  # Shared by both tasks, as on a cluster.
    cluster = local_cluster(workers=1)
    tasks = [_launch(model_dir, steps, json.dumps({"cluster": cluster, "task": {"type": t, "index": 0}}))
             for t in ("chief", "worker")]
    try:
        reports = [_report(task, "two workers") for task in tasks]
    finally:
        for task in tasks:
            task.kill()
        shutil.rmtree(model_dir, ignore_errors=True)
    return reports[0]  # The chief's; both tasks step together.


def run() -> dict:
    steps = 5 if common.QUICK else 200
    rounds = 1 if common.QUICK else 2
    single, cluster = [], []
    for _ in range(rounds):
        single.append(one_process(steps))
        cluster.append(two_workers(steps))
    best_single = max(single, key=lambda r: r["steps_per_s"])
    best_cluster = max(cluster, key=lambda r: r["steps_per_s"])
    return {
        "steps": steps, "batch": BATCH,
        "single_steps_per_s": best_single["steps_per_s"], "single_examples_per_s": best_single["examples_per_s"],
        "cluster_steps_per_s": best_cluster["steps_per_s"], "cluster_examples_per_s": best_cluster["examples_per_s"],
        "examples_ratio": best_cluster["examples_per_s"] / best_single["examples_per_s"],
    }


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
    else:
        print(run())
