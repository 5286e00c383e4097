"""Input pipeline throughput vs the default numbers model's training consumption.

Measured in one process, side by side, so the ratios hold on a noisy machine:
- fast / generator pipeline: examples per second read from `numbers.input_fn` (TRAIN);
- consumption: examples per second the default model (gru, batch 64) trains on, fed one cached
  batch so the pipeline is not part of the figure.
Prints a table and writes bench/results/pipeline.md.
"""

from __future__ import annotations

import os
import platform
import sys
import time

import keras
import tensorflow as tf

from keras_estimator.numbers import input_fn
from keras_estimator.numbers.models import build_model

BATCHES = int(os.environ.get("BENCH_BATCHES", "200"))


def examples_per_second(dataset, batches: int) -> float:
    iterator = iter(dataset)
    next(iterator)  # Warm-up: pool encoding, tracing.
    start, count = time.perf_counter(), 0
    for _ in range(batches):
        features, _ = next(iterator)
        count += int(features["lengths"].shape[0])
    return count / (time.perf_counter() - start)


def consumption(params: dict, steps: int) -> tuple[float, int]:
    model = build_model(params)
    features, labels = next(iter(input_fn(params)))
    batch = tf.data.Dataset.from_tensors((features, labels)).repeat()
    model.fit(batch, steps_per_epoch=5, epochs=1, verbose=0)  # Warm-up: tracing.
    start = time.perf_counter()
    model.fit(batch, steps_per_epoch=steps, epochs=1, verbose=0)
    rate = steps * int(features["lengths"].shape[0]) / (time.perf_counter() - start)
    return rate, int(features["sequences"].shape[1])


def main() -> None:
    params = {"lang": os.environ.get("BENCH_LANG", "en"), "batch_size": 64}
    fast = examples_per_second(input_fn({**params, "pipeline": "fast"}), BATCHES)
    generator = examples_per_second(input_fn({**params, "pipeline": "generator"}), max(BATCHES // 4, 10))
    model_rate, width = consumption(params, max(BATCHES // 2, 20))
    rows = [
        ("fast pipeline", fast, fast / model_rate),
        ("generator pipeline", generator, generator / model_rate),
        (f"gru-64 training (batch 64, padded width {width})", model_rate, 1.0),
    ]
    lines = [
        f"# Input pipeline vs training consumption ({params['lang']})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; Python {sys.version.split()[0]}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}.",
        "",
        "| what | examples/s | x consumption |",
        "|---|---:|---:|",
        *[f"| {name} | {rate:,.0f} | {ratio:.1f} |" for name, rate, ratio in rows],
        "",
        f"Target: the fast pipeline >= 5x consumption: {'met' if fast / model_rate >= 5 else 'NOT met'}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "pipeline.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
