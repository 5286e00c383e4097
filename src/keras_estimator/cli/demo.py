"""`keras-estimator demo`: English parity end to end on the Estimator path."""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np
import tensorflow as tf

from keras_estimator.cli.commands import TrainedModel, merge_params, train
from keras_estimator.cli.output import describe, format_metrics, text_table
from keras_estimator.numbers import data as numbers_data
from keras_estimator.numbers.vocabulary import number_words

DEMO_PARAMS = {"lang": "en", "targets": ["parity"], "model": "gru", "units": 32, "embedding_dim": 16,
               "learning_rate": 1e-2, "batch_size": 64}
DEMO_NUMBERS = (7, 42, 100, 1001, 31_415, 99_998, 123_457, 999_999)
DEMO_MIN_ACCURACY = 0.95


def demo(model_dir: str, export_dir: str, steps: int, print_fn: Callable[[str], None] = print) -> bool:
    """English parity end to end on the Estimator path: train, evaluate, export, reload the
    export in this process, predict from raw words. Returns whether accuracy reached 95%."""
    t0 = time.monotonic()
    params = merge_params(model_dir, {}, DEMO_PARAMS)
    print_fn(f"1/4 train: {params['model']}-{params['units']} on English parity, {steps} steps -> {model_dir}")
    results = train(model_dir, params, max_steps=steps, print_fn=print_fn)
    trained = TrainedModel(model_dir)
    print_fn(f"2/4 evaluate on {params['eval_size']} held-out numbers")
    print_fn(format_metrics(results))

    print_fn(f"3/4 export the raw-words SavedModel -> {export_dir}")
    export_path = trained.export(export_dir)

    print_fn("4/4 reload the export with tf.saved_model.load and ask it in words")
    print_fn(_ask_in_words(trained, export_path))

    accuracy = results["accuracy"]
    print_fn(f"accuracy on {params['eval_size']} held-out numbers: {accuracy:.2%}"
             f" (needs {DEMO_MIN_ACCURACY:.0%}); {time.monotonic() - t0:.0f} s")
    print_fn(f"model_dir: {model_dir}    (tensorboard --logdir {model_dir})")
    print_fn(f"export:    {export_path}")
    return accuracy >= DEMO_MIN_ACCURACY and not math.isnan(accuracy)


def _ask_in_words(trained: TrainedModel, export_path: str) -> str:
    """Serves DEMO_NUMBERS in words from the reloaded export, checks it agrees with the
    Estimator, and returns the table of its answers."""
    numbers = np.array(DEMO_NUMBERS)
    words = [number_words(n, "en") for n in numbers]
    words[1] = words[1].title()  # Raw client text: the export lower-cases it.
    serve = tf.saved_model.load(export_path).signatures["serving_default"]
    served = serve(words=tf.constant(words))["parity"].numpy()[:, 0]
    estimated = np.array([p["parity"][0] for p in trained.predict(words)])
    if not np.allclose(served, estimated, atol=1e-5):
        raise RuntimeError(f"the export and the Estimator disagree: {served} vs {estimated}")
    truth = numbers_data.target_values(numbers, "parity")
    rows = [[w, str(n), "odd" if t else "even", describe("parity", [p]), "yes" if (p >= 0.5) == bool(t) else "NO"]
            for w, n, t, p in zip(words, numbers, truth, served)]
    return text_table(["words", "number", "truth", "export says", "right"], rows)
