"""Evaluate and predict throughput through the Estimator, latency of the exported raw-words
SavedModel, and the fixed costs: the first train step (tracing), a checkpoint save, an export.
"""

from __future__ import annotations

import shutil
import tempfile
import time

import numpy as np
import tensorflow as tf

import keras_estimator as ke
from keras_estimator.numbers import build_model, input_fn, number_words, serving_input_receiver_fn

import common


class SaveTimer(ke.CheckpointSaverListener):
    """Times each checkpoint save, from before_save to after_save."""

    def __init__(self):
        self.seconds: list[float] = []
        self._start = 0.0

    def before_save(self, global_step):
        self._start = time.perf_counter()

    def after_save(self, global_step, checkpoint_path):
        self.seconds.append(time.perf_counter() - self._start)


def run(rounds: int = 5) -> dict:
    params = dict(common.PARAMS, eval_size=2000)
    requests = 200
    if common.QUICK:
        rounds, requests = 1, 5
        params["eval_size"] = 128
    model_dir = tempfile.mkdtemp(prefix="bench_serving_")
    try:
        config = ke.RunConfig(tf_random_seed=0, save_checkpoints_steps=10, keep_checkpoint_max=3)
        estimator = ke.model_to_estimator(build_model(params), model_dir=model_dir, config=config)
        train = lambda: input_fn(params, ke.ModeKeys.TRAIN)  # noqa: E731
        next(iter(train()))  # Encodes the training pool (cached), so it is not counted as tracing.
        # The first train call: building the variables and tracing the loop.
        timer = SaveTimer()
        first = common.timed(lambda: estimator.train(train, steps=1, saving_listeners=[timer]))
        steady = common.timed(lambda: estimator.train(train, steps=50, saving_listeners=[timer])) / 50
        saves = timer.seconds

        evaluate = lambda: input_fn(params, ke.ModeKeys.EVAL)  # noqa: E731
        predict = lambda: input_fn(params, ke.ModeKeys.PREDICT)  # noqa: E731
        estimator.evaluate(evaluate)  # Traces.
        list(estimator.predict(predict))
        eval_rates = [params["eval_size"] / common.timed(lambda: estimator.evaluate(evaluate)) for _ in range(rounds)]
        predict_rates = [params["eval_size"] / common.timed(lambda: list(estimator.predict(predict)))
                         for _ in range(rounds)]

        exports = tempfile.mkdtemp(prefix="bench_exports_")
        receiver = serving_input_receiver_fn(params)
        export_seconds = common.timed(lambda: estimator.export_saved_model(exports, receiver))
        path = estimator.export_saved_model(exports, receiver).decode()
        serve = tf.saved_model.load(path).signatures["serving_default"]
        words = [number_words(int(n), "en") for n in np.random.default_rng(0).integers(0, 10**6, 64)]
        single, batch = tf.constant(words[:1]), tf.constant(words)
        for _ in range(5):
            serve(words=single)["parity"].numpy()
            serve(words=batch)["parity"].numpy()
        single_ms = [1000 * common.timed(lambda: serve(words=single)["parity"].numpy()) for _ in range(requests)]
        batch_ms = [1000 * common.timed(lambda: serve(words=batch)["parity"].numpy()) for _ in range(requests)]
        shutil.rmtree(exports, ignore_errors=True)
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)
    return {
        "evaluate_examples_per_s": common.median(eval_rates),
        "predict_examples_per_s": common.median(predict_rates),
        "single_p50_ms": common.percentile(single_ms, 50),
        "single_p99_ms": common.percentile(single_ms, 99),
        "batch64_p50_ms": common.percentile(batch_ms, 50),
        "batch64_p99_ms": common.percentile(batch_ms, 99),
        "first_train_call_s": first,
        "steady_step_s": steady,
        "checkpoint_save_s": common.median(saves),
        "export_s": export_seconds,
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:28s} {value:10.4f}")
