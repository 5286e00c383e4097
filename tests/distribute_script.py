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

X, Y = make_data(64 * 8 + 40)


UNEVEN = 64 * 8 + 40


def input_fn(batch, examples=len(X)):
    def make(input_context=None):
        contexts.append(None if input_context is None else input_context.num_replicas_in_sync)
        return tf.data.Dataset.from_tensor_slices(({"x": X[:examples]}, Y[:examples])).batch(batch)
    return make


def predictions(estimator, batch, key):
    return [float(p[key].reshape(-1)[0]) for p in estimator.predict(input_fn(batch, UNEVEN))]


def v1_metrics_model_fn(features, labels, mode):
    """tf.estimator-style: tf.compat.v1.metrics (value, update_op) tuples."""
    logits = keras.layers.Dense(1, name="logits")(features["x"])[:, 0]
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions=logits)
    loss = tf.reduce_mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))
    if mode == ke.ModeKeys.TRAIN:
        optimizer = tf.compat.v1.train.GradientDescentOptimizer(0.5)
        return ke.EstimatorSpec(mode, loss=loss, train_op=optimizer.minimize(
            loss, global_step=tf.compat.v1.train.get_global_step()))
    predicted = tf.cast(logits > 0, tf.float32)
    return ke.EstimatorSpec(mode, loss=loss, eval_metric_ops={
        "accuracy": tf.compat.v1.metrics.accuracy(labels, predicted),
        "mean_logit": tf.compat.v1.metrics.mean(logits)})


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
        config = ke.RunConfig(tf_random_seed=3, train_distribute=distribute, eval_distribute=distribute,
                              save_checkpoints_steps=2)
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
        # Under eval_distribute: per-replica batches of 32, on uneven data (the last step gives
        # one replica 32 examples, the other 8).
        "eval": [{k: float(v) for k, v in e.evaluate(input_fn(batch, UNEVEN)).items()}
                 for e, batch in ((one, 64), (two, 32))],
        "predictions": [predictions(e, batch, "logits" if kind == "model_fn" else "y")
                        for e, batch in ((one, 64), (two, 32))],
    }
# eval_distribute alone: variables built on one device, evaluation and prediction on two.
model_dir = tempfile.mkdtemp()
ke.Estimator(v1_metrics_model_fn, model_dir, ke.RunConfig(tf_random_seed=3)).train(input_fn(64), steps=3)
alone = [ke.Estimator(v1_metrics_model_fn, model_dir, ke.RunConfig(eval_distribute=e)) for e in (None, strategy)]
report["eval_distribute_alone"] = {
    "eval": [{k: float(v) for k, v in e.evaluate(input_fn(batch, UNEVEN)).items()}
             for e, batch in zip(alone, (64, 32))],
    "predictions": [[float(p) for p in e.predict(input_fn(batch, UNEVEN))] for e, batch in zip(alone, (64, 32))],
}
# Refused when the Estimator is made: eval_distribute another object than a multi-replica
# train_distribute; a multi-replica eval_distribute that is not a MirroredStrategy.
report["refused"] = []
for train, evaluate in ((strategy, tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])),
                        (None, tf.distribute.experimental.CentralStorageStrategy(["/cpu:0", "/cpu:1"]))):
    try:
        ke.Estimator(model_fn, tempfile.mkdtemp(), ke.RunConfig(train_distribute=train, eval_distribute=evaluate))
    except ValueError as e:
        report["refused"].append(str(e))
report["replicas_seen_by_input_fn"] = sorted({c for c in contexts if c is not None})
json.dump(report, sys.stdout)
