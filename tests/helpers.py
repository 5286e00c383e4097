"""Small model_fns and input_fns shared by the runtime tests (real TensorFlow and Keras).

Also a command-line entry point, so tests can train in a separate process:
    python tests/helpers.py MODEL_DIR STEPS [--kill-near-save STEP DELAY_MS] [--eval]
"""

from __future__ import annotations

import os
import sys

import keras
import numpy as np
import tensorflow as tf

import keras_estimator as ke

FEATURES = 4


def make_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    return x, y


def input_fn(n: int = 256, batch: int = 32, repeat: bool = True, seed: int = 0, labels: bool = True):
    """An input_fn of ({"x": float32 [B, 4]}, float32 [B]) batches."""
    def fn():
        x, y = make_data(n, seed)
        ds = tf.data.Dataset.from_tensor_slices(({"x": x}, y) if labels else {"x": x})
        if repeat:
            ds = ds.repeat()
        return ds.batch(batch)
    return fn


def dense_model_fn(features, labels, mode, params):
    """Dense -> Dropout -> Dense binary classifier; `params`: lr, dropout, optimizer."""
    training = mode == ke.ModeKeys.TRAIN
    h = keras.layers.Dense(8, activation="relu")(features["x"])
    h = keras.layers.Dropout(params.get("dropout", 0.0))(h, training=training)
    logits = keras.layers.Dense(1)(h)[:, 0]
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"logits": logits, "class": tf.cast(logits > 0, tf.int32)})
    loss = tf.reduce_mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))
    if training:
        opt_cls = getattr(keras.optimizers, params.get("optimizer", "Adam"))
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, opt_cls(params.get("lr", 0.05))))
    accuracy = keras.metrics.BinaryAccuracy(threshold=0.0)
    accuracy.update_state(labels, logits)
    examples = keras.metrics.Sum()
    examples.update_state(tf.cast(tf.shape(logits)[0], tf.float32))
    return ke.EstimatorSpec(mode, loss=loss, eval_metric_ops={"accuracy": accuracy, "examples": examples})


def estimator(model_dir, params=None, **config) -> ke.Estimator:
    config.setdefault("log_step_count_steps", None)
    config.setdefault("save_summary_steps", None)
    return ke.Estimator(dense_model_fn, str(model_dir), ke.RunConfig(**config), params=params or {})


def dir_state(path) -> dict:
    """{relative path: bytes} of every file under path: to prove a call wrote nothing."""
    state = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                state[os.path.relpath(full, path)] = f.read()
    return state


def tree_state(path):
    """Like dir_state, but also records directories (an empty `eval/` or `export/` counts) and
    None for a path that does not exist; a regular file gives {"": bytes}."""
    if not os.path.lexists(path):
        return None
    if not os.path.isdir(path):
        with open(path, "rb") as f:
            return {"": f.read()}
    state = {}
    for root, dirs, files in os.walk(path):
        for name in dirs:
            state[os.path.relpath(os.path.join(root, name), path) + "/"] = None
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as f:
                state[os.path.relpath(full, path)] = f.read()
    return state


class _KillNearSave(ke.CheckpointSaverListener):
    """SIGKILLs this process `delay_ms` after the save at `step` starts: mid-save or right after."""

    def __init__(self, step: int, delay_ms: float):
        self.step, self.delay = step, delay_ms / 1000.0

    def before_save(self, global_step):
        if global_step == self.step:
            import signal
            import threading
            threading.Timer(self.delay, os.kill, (os.getpid(), signal.SIGKILL)).start()


def main(argv: list[str]) -> None:
    model_dir, steps = argv[0], int(argv[1])
    listeners = []
    if "--kill-near-save" in argv:
        i = argv.index("--kill-near-save")
        listeners.append(_KillNearSave(int(argv[i + 1]), float(argv[i + 2])))
    est = estimator(model_dir, {"lr": 0.05}, save_checkpoints_steps=5, tf_random_seed=1)
    est.train(input_fn(), steps=steps, saving_listeners=listeners)
    if "--eval" in argv:
        print("EVAL_LOSS", repr(float(est.evaluate(input_fn(repeat=False))["loss"])))
    print("GLOBAL_STEP", int(est.get_variable_value("global_step")))


if __name__ == "__main__":
    main(sys.argv[1:])
