"""The fixed cost of a fresh Estimator's first evaluate and predict, against tf.estimator 2.15.

The same model_fn (the numbers GRU-64 in tf.keras layers with tf.compat.v1 metrics and
optimizer, bench/first_call_task.py) on the same 2000 examples (batch 64), run by this tree
and by TensorFlow 2.15 with tensorflow_estimator 2.15 (the virtualenv `make bench` makes at
.venv-tf215; BENCH_TF215_PYTHON names another interpreter). Each side first trains its own
model_dir for 20 steps (untimed); then every round runs one fresh process per side, in
alternating order, timing a new Estimator's first evaluate, a repeated evaluate, a repeated
1-batch evaluate, a first and a repeated predict. Figures are each side's best round.

Rounds run twice: with a full garbage collection before each timed call (untimed; the table),
and as a program runs them (the rows "as run"). CPython's full collection over the objects of
TensorFlow's import (0.12-0.16 s) falls in whichever call crosses its threshold, the same one in
every process: tf.estimator 2.15's first evaluate and this tree's first predict. "as run" keeps
it, with the sum of both first calls, which carries it on both sides.

Derived, the same way for both: per batch = (repeated evaluate - repeated 1-batch evaluate) /
(batches - 1); fixed cost of a repeated call = repeated 1-batch evaluate - per batch; first-call
extra (building the graph, tracing, optimizing it) = first evaluate - repeated evaluate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import common

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TASK = os.path.join(HERE, "first_call_task.py")
TF215_PYTHON = os.environ.get("BENCH_TF215_PYTHON", os.path.join(ROOT, ".venv-tf215", "bin", "python"))
EXAMPLES = 2000
TIMES = ("construct_s", "first_evaluate_s", "repeat_evaluate_s", "repeat_evaluate_1_batch_s",
         "first_predict_s", "repeat_predict_s")


def _write_data(path: str) -> None:
    from keras_estimator.numbers import build_model

    features, labels, width = common.fixed_batches(count=-(-EXAMPLES // common.PARAMS["batch_size"]))
    np.savez(path, sequences=features["sequences"].numpy().reshape(-1, width)[:EXAMPLES],
             lengths=features["lengths"].numpy().reshape(-1)[:EXAMPLES],
             labels=labels.numpy().reshape(-1)[:EXAMPLES],
             vocab_size=build_model(common.PARAMS).get_layer("embedding").input_dim)


def _task(python: str, implementation: str, action: str, data: str, model_dir: str, *extra: str) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if implementation == "keras_estimator":
        env["PYTHONPATH"] = os.path.join(ROOT, "src")
    done = subprocess.run([python, TASK, implementation, action, data, model_dir, *extra], env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{implementation} {action} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def derived(figures: dict) -> dict:
    per_batch = (figures["repeat_evaluate_s"] - figures["repeat_evaluate_1_batch_s"]) / (figures["batches"] - 1)
    return {"per_batch_ms": 1000 * per_batch,
            "repeat_fixed_ms": 1000 * (figures["repeat_evaluate_1_batch_s"] - per_batch),
            "first_extra_s": figures["first_evaluate_s"] - figures["repeat_evaluate_s"]}


def run(rounds: int = 3) -> dict:
    """{"rows": [(measure, tf.estimator 2.15, this tree, ratio)], ...}, or {"skipped": why}."""
    if common.QUICK:
        rounds = 1
    if not os.path.exists(TF215_PYTHON):
        return {"skipped": f"no TensorFlow 2.15 interpreter at {TF215_PYTHON} (make bench creates it)"}
    sides = {"tf.estimator 2.15": (TF215_PYTHON, "tf215"), "this tree": (sys.executable, "keras_estimator")}
    with tempfile.TemporaryDirectory(prefix="bench_first_call_") as tmp:
        data = os.path.join(tmp, "data.npz")
        _write_data(data)
        for name, (python, implementation) in sides.items():
            _task(python, implementation, "train", data, os.path.join(tmp, implementation))
        runs = _rounds(sides, data, tmp, rounds, "collect")
        as_run = _rounds(sides, data, tmp, rounds)
    best = {name: {key: min(r[key] for r in runs[name]) for key in TIMES} | {"batches": runs[name][0]["batches"]}
            for name in sides}
    for name, figures in best.items():
        figures.update(derived(figures))
        firsts = [(r["first_evaluate_s"], r["first_predict_s"]) for r in as_run[name]]
        figures["first_evaluate_s as run"] = min(e for e, _ in firsts)
        figures["first_predict_s as run"] = min(p for _, p in firsts)
        figures["first evaluate + predict as run"] = min(e + p for e, p in firsts)
    old, new = best["tf.estimator 2.15"], best["this tree"]
    keys = TIMES + ("per_batch_ms", "repeat_fixed_ms", "first_extra_s", "first_evaluate_s as run",
                    "first_predict_s as run", "first evaluate + predict as run")
    return {"rounds": rounds, "examples": EXAMPLES, "batches": new["batches"],
            "rows": [(key, old[key], new[key], new[key] / old[key]) for key in keys]}


def _rounds(sides: dict, data: str, tmp: str, rounds: int, *extra: str) -> dict:
    """Each side's figures per round, fresh processes in alternating order."""
    return common.alternate({name: (lambda p=python, i=implementation: _task(p, i, "measure", data,
                                                                          os.path.join(tmp, i), *extra))
                             for name, (python, implementation) in sides.items()}, rounds)


if __name__ == "__main__":
    result = run()
    if "skipped" in result:
        print("skipped:", result["skipped"])
    for key, old, new, ratio in result.get("rows", []):
        print(f"{key:28s} {old:8.3f} {new:8.3f}  x{ratio:.2f}")
