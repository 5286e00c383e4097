"""Run by tests/test_distribute.py in a fresh process (logical devices must be set before
TensorFlow starts): trains the same model on one device and under MirroredStrategy on two
logical CPUs, and prints a JSON report."""

import json
import sys
import tempfile

import numpy as np
import tensorflow as tf

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

import keras_estimator as ke  # noqa: E402
from helpers import dense_model_fn as model_fn, make_data  # noqa: E402  (tests/ is sys.path[0])

X, Y = make_data(64 * 8)


def input_fn(batch):
    def make(input_context=None):
        contexts.append(None if input_context is None else input_context.num_replicas_in_sync)
        return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(batch)
    return make


def keras_model():
    x = keras.Input((4,), name="x")
    out = keras.layers.Dense(1, activation="sigmoid", name="y")(keras.layers.Dense(8, activation="relu", name="hidden")(x))
    model = keras.Model({"x": x}, out)
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    return model


def weights(estimator):
    return {n: estimator.get_variable_value(n) for n in estimator.get_variable_names()}


def max_difference(a, b):
    return max(float(np.max(np.abs(a[n] - b[n]))) for n in a)


contexts = []
report = {}
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
for kind in ("model_fn", "bridge"):
    made = {}
    for name, batch, distribute in (("one", 64, None), ("two", 32, strategy)):
        config = ke.RunConfig(tf_random_seed=3, train_distribute=distribute, save_checkpoints_steps=2)
        model_dir = tempfile.mkdtemp()
        if kind == "model_fn":
            est = ke.Estimator(model_fn, model_dir, config)
        else:
            keras.utils.set_random_seed(3)
            est = ke.model_to_estimator(keras_model(), model_dir=model_dir, config=config)
        est.train(input_fn(batch), steps=4)  # Two calls: the second resumes from the checkpoint.
        est.train(input_fn(batch), steps=2)
        made[name] = est
    one, two = made["one"], made["two"]
    report[kind] = {
        "max_weight_difference": max_difference(weights(one), weights(two)),
        "global_steps": [int(one.get_variable_value("global_step")), int(two.get_variable_value("global_step"))],
        "checkpoint": two.latest_checkpoint(),
        "eval": [{k: float(v) for k, v in e.evaluate(input_fn(64)).items()} for e in (one, two)],
        "predictions": [float(next(iter(e.predict(input_fn(64), yield_single_examples=False)))[
            "logits" if kind == "model_fn" else "y"].reshape(-1)[0]) for e in (one, two)],
    }
report["replicas_seen_by_input_fn"] = sorted({c for c in contexts if c is not None})
json.dump(report, sys.stdout)
