"""Steps/s and examples/s of Estimator training against batch size and sequence length, with
each configuration's peak memory: one subprocess per configuration, so peak RSS is its own.

Sequences are synthetic (random character ids, every row its full width) so the width is exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import common

BATCH_SIZES = (16, 32, 64, 128, 256, 512)
WIDTHS = (16, 32, 64, 128)
DEFAULT_WIDTH, DEFAULT_BATCH = 64, 64


def measure(batch: int, width: int, steps: int) -> dict:
    """In this process: Estimator train steps/s at [batch, width], then peak RSS."""
    import shutil

    import tensorflow as tf

    import keras_estimator as ke
    from training import numbers_gru_model_fn

    ids = tf.random.stateless_uniform([8, batch, width], [0, 1], minval=2, maxval=30, dtype=tf.int32)
    features = {"sequences": ids, "lengths": tf.fill([8, batch], width)}
    labels = tf.random.stateless_uniform([8, batch], [0, 2], maxval=2, dtype=tf.int32)
    dataset = common.dataset_of(features, labels)
    model_dir = tempfile.mkdtemp(prefix="bench_scaling_")
    try:
        estimator = ke.Estimator(numbers_gru_model_fn, model_dir, ke.RunConfig(tf_random_seed=0),
                                 {"vocab_size": 32, "units": common.PARAMS["units"]})
        common.reset_peak_rss()
        before = common.peak_rss_mib()  # TensorFlow and the data, before the model exists.
        estimator.train(lambda: dataset, steps=2)
        # Best of three calls: this VM slows down for seconds at a time.
        seconds = min(common.timed(lambda: estimator.train(lambda: dataset, steps=steps)) for _ in range(3))
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)
    peak = common.peak_rss_mib()
    return {"batch": batch, "width": width, "steps_per_s": steps / seconds,
            "examples_per_s": steps * batch / seconds, "peak_rss_mib": peak, "training_rss_mib": peak - before}


def run() -> list[dict]:
    configs = [(b, DEFAULT_WIDTH) for b in BATCH_SIZES] + [(DEFAULT_BATCH, w) for w in WIDTHS if w != DEFAULT_WIDTH]
    if common.QUICK:
        configs = [(16, 16), (32, 16)]
    rows = []
    for batch, width in configs:
        steps = 5 if common.QUICK else max(20, 4000 // batch)
        done = subprocess.run(
            [sys.executable, __file__, str(batch), str(width), str(steps)], capture_output=True, text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, cwd=os.path.dirname(os.path.abspath(__file__)),
        )
        if done.returncode != 0:
            raise RuntimeError(f"scaling batch={batch} width={width} failed:\n{done.stderr[-2000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 4:
        print(json.dumps(measure(*map(int, sys.argv[1:]))))
    else:
        for row in run():
            print(row)
