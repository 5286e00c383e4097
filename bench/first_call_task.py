"""One fresh process of bench/first_call.py: the fixed cost of evaluate and predict.

Runs under this tree (`keras_estimator.tensorflow` swapped in for `tensorflow`) or under
TensorFlow 2.15 with tensorflow_estimator, on the same model_fn and the same data (an .npz the
parent wrote). `train` makes the model_dir's checkpoint (untimed, its own process); `measure`
times, in a fresh process, a new Estimator's first evaluate and predict, then repeated ones.

    python first_call_task.py keras_estimator|tf215 train|measure DATA.npz MODEL_DIR [collect]

With `collect`, a full garbage collection runs before each timed call (untimed): CPython's
full collections (0.12-0.16 s over the 270k-350k objects TensorFlow's import leaves) land in
whichever call crosses the threshold, the same call in every process of one program, so
without it a side's first evaluate or first predict carries one and the other does not.
"""

from __future__ import annotations

import gc
import json
import sys
import time

IMPLEMENTATION, ACTION, DATA, MODEL_DIR = sys.argv[1:5]
COLLECT = sys.argv[5:] == ["collect"]
start = time.perf_counter()
if IMPLEMENTATION == "keras_estimator":
    import keras_estimator.tensorflow as tf
else:
    import tensorflow as tf
import numpy as np  # noqa: E402

import_s = time.perf_counter() - start
data = np.load(DATA)
BATCH = 64
UNITS = 64


def input_fn():
    features = {"sequences": data["sequences"], "lengths": data["lengths"]}
    return tf.data.Dataset.from_tensor_slices((features, data["labels"])).batch(BATCH)


def model_fn(features, labels, mode, params):
    """The numbers GRU in tf.keras layers with tf.compat.v1 metrics and optimizer: a model_fn
    both TensorFlow 2.15's tf.estimator and this tree run unchanged."""
    mask = tf.sequence_mask(features["lengths"], tf.shape(features["sequences"])[1])
    x = tf.keras.layers.Embedding(params["vocab_size"], 16, name="embedding")(features["sequences"])
    x = tf.keras.layers.GRU(UNITS, name="gru_0")(x, mask=mask)
    logits = tf.keras.layers.Dense(1, name="parity")(x)[:, 0]
    probability = tf.sigmoid(logits)
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions={"parity": probability})
    labels = tf.cast(labels, tf.float32)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
    if mode == tf.estimator.ModeKeys.EVAL:
        accuracy = tf.compat.v1.metrics.accuracy(labels, tf.cast(probability > 0.5, tf.float32))
        return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={"accuracy": accuracy})
    train_op = tf.compat.v1.train.AdamOptimizer(1e-2).minimize(
        loss, global_step=tf.compat.v1.train.get_global_step())
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def estimator():
    config = tf.estimator.RunConfig(log_step_count_steps=None, save_summary_steps=None)
    return tf.estimator.Estimator(model_fn, MODEL_DIR, config, params={"vocab_size": int(data["vocab_size"])})


def timed(fn):
    if COLLECT:
        gc.collect()
    begin = time.perf_counter()
    result = fn()
    return time.perf_counter() - begin, result


def measure() -> dict:
    made_s, est = timed(estimator)
    batches = -(-len(data["labels"]) // BATCH)
    figures = {"import_s": import_s, "construct_s": made_s, "batches": batches}
    figures["first_evaluate_s"], results = timed(lambda: est.evaluate(input_fn))
    figures["repeat_evaluate_s"], _ = timed(lambda: est.evaluate(input_fn))
    figures["repeat_evaluate_1_batch_s"], _ = timed(lambda: est.evaluate(input_fn, steps=1))
    figures["first_predict_s"], predictions = timed(lambda: list(est.predict(input_fn)))
    figures["repeat_predict_s"], _ = timed(lambda: list(est.predict(input_fn)))
    figures["accuracy"] = float(results["accuracy"])
    figures["predictions"] = len(predictions)
    return figures


if ACTION == "train":
    estimator().train(lambda: input_fn().repeat(), steps=20)
    print(json.dumps({"import_s": import_s}))
else:
    print(json.dumps(measure()))
