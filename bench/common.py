"""Shared benchmark helpers: the default model's data, alternating timed rounds, machine facts.

Figures on a shared 2-core machine drift by 10-20% between minutes, so every comparison runs its
contenders in alternating rounds in one process and reports medians and the median of the
per-round ratios, never figures from separate runs.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_estimator.numbers import input_fn

QUICK = os.environ.get("BENCH_QUICK") == "1"  # Tiny sizes: checks the benchmarks run, not speed.
# The default numbers model, as the issue measured it: GRU-64, batch 64, English parity.
PARAMS = {"lang": "en", "targets": ["parity"], "model": "gru", "units": 64, "batch_size": 64, "seed": 0}


def fixed_batches(params: dict = PARAMS, count: int = 32) -> tuple[dict, tf.Tensor, int]:
    """`count` training batches of the numbers pipeline, padded to one common width (the
    longest), stacked: ({"sequences": [count, B, W], "lengths": [count, B]}, labels [count, B], W).
    Every contender trains on exactly these, so the pipeline is not part of training figures."""
    batches = list(input_fn(params).take(count))
    width = max(int(f["sequences"].shape[1]) for f, _ in batches)
    sequences = [tf.pad(f["sequences"], [[0, 0], [0, width - f["sequences"].shape[1]]]) for f, _ in batches]
    features = {"sequences": tf.stack(sequences), "lengths": tf.stack([f["lengths"] for f, _ in batches])}
    return features, tf.stack([y for _, y in batches]), width


def dataset_of(features: dict, labels: tf.Tensor) -> tf.data.Dataset:
    """The stacked batches, repeated for ever, one batch per element."""
    return tf.data.Dataset.from_tensor_slices((features, labels)).repeat().prefetch(2)


def alternate(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Runs each contender once per round, in a rotating order; returns name -> rates per round.
    Each callable runs a fixed amount of work and returns its rate (higher is faster)."""
    names = list(contenders)
    rates: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            rates[name].append(contenders[name]())
    return rates


def ratio(rates: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of rate(a) / rate(b) measured in the same round."""
    return statistics.median(x / y for x, y in zip(rates[a], rates[b]))


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {sys.version.split()[0]}, TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}")


def peak_rss_mib() -> float:
    """This process's peak resident memory (MiB) since start or the last `reset_peak_rss`."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def reset_peak_rss() -> None:
    """Starts a new peak at the current resident memory (Linux: writing 5 to clear_refs), so a
    later `peak_rss_mib` is the peak of what ran since, not of importing TensorFlow."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
