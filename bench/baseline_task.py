"""One version's figures for `baseline.py`: run with PYTHONPATH set to that version's `src`.

Prints one JSON line: training steps/s (Estimator with a model_fn, the bridge, and a raw
`tf.function` loop measured in the same process as a yardstick), evaluate and predict
examples/s, the first evaluate of a fresh Estimator, and SavedModel latency.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_estimator as ke  # noqa: E402
from keras_estimator.numbers import build_model, input_fn, number_words, serving_input_receiver_fn  # noqa: E402

import common  # noqa: E402
import training  # noqa: E402

STEPS, CALLS, REQUESTS = (5, 1, 5) if common.QUICK else (150, 3, 100)
PARAMS = dict(common.PARAMS, eval_size=128 if common.QUICK else 2000)


def train_rates(model_dir: str) -> dict[str, float]:
    features, labels, _ = common.fixed_batches(count=16)
    dataset = common.dataset_of(features, labels)
    params = {"vocab_size": build_model(common.PARAMS).get_layer("embedding").input_dim, "units": 64}
    config = ke.RunConfig(tf_random_seed=0)
    contenders = {
        "estimator": training.EstimatorTrainer(
            lambda d: ke.Estimator(training.numbers_gru_model_fn, d, config, params), dataset, STEPS),
        "bridge": training.EstimatorTrainer(
            lambda d: ke.model_to_estimator(build_model(common.PARAMS), model_dir=d, config=config), dataset, STEPS),
        "raw": training.RawLoop(dataset, STEPS),
    }
    try:
        rates = common.alternate(contenders, CALLS)
    finally:
        for trainer in contenders.values():
            getattr(trainer, "close", lambda: None)()
    return {name: max(r) for name, r in rates.items()}


def serving_figures(model_dir: str) -> dict[str, float]:
    estimator = ke.model_to_estimator(build_model(PARAMS), model_dir=model_dir, config=ke.RunConfig(tf_random_seed=0))
    estimator.train(lambda: input_fn(PARAMS, ke.ModeKeys.TRAIN), steps=20)
    evaluate = lambda: input_fn(PARAMS, ke.ModeKeys.EVAL)  # noqa: E731
    predict = lambda: input_fn(PARAMS, ke.ModeKeys.PREDICT)  # noqa: E731
    fresh = ke.model_to_estimator(build_model(PARAMS), model_dir=model_dir)
    first_eval = common.timed(lambda: fresh.evaluate(evaluate))
    list(estimator.predict(predict))
    n = PARAMS["eval_size"]
    eval_rate = max(n / common.timed(lambda: estimator.evaluate(evaluate)) for _ in range(CALLS))
    predict_rate = max(n / common.timed(lambda: list(estimator.predict(predict))) for _ in range(CALLS))
    exports = tempfile.mkdtemp(prefix="bench_baseline_exports_")
    try:
        written = []
        receiver = serving_input_receiver_fn(PARAMS)
        export_s = common.timed(lambda: written.append(estimator.export_saved_model(exports, receiver)))
        path = written[0].decode()
        serve = tf.saved_model.load(path).signatures["serving_default"]
        words = [number_words(int(n), "en") for n in np.random.default_rng(0).integers(0, 10**6, 64)]
        one, batch = tf.constant(words[:1]), tf.constant(words)
        for _ in range(5):
            serve(words=one), serve(words=batch)
        one_ms = [1000 * common.timed(lambda: serve(words=one)["parity"].numpy()) for _ in range(REQUESTS)]
        batch_ms = [1000 * common.timed(lambda: serve(words=batch)["parity"].numpy()) for _ in range(REQUESTS)]
    finally:
        shutil.rmtree(exports, ignore_errors=True)
    return {"evaluate": eval_rate, "predict": predict_rate, "first_evaluate_s": first_eval, "export_s": export_s,
            "serve_1_p50_ms": common.percentile(one_ms, 50), "serve_64_p50_ms": common.percentile(batch_ms, 50)}


def main() -> None:
    model_dir = tempfile.mkdtemp(prefix="bench_baseline_")
    try:
        figures = train_rates(os.path.join(model_dir, "train"))
        figures.update(serving_figures(os.path.join(model_dir, "serve")))
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)
    figures["version_file"] = ke.__file__
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
