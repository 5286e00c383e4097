"""A model_fn written with tf.compat.v1 optimizers against the same one with Keras optimizers,
and the cost of a hook fetching a tensor every N steps (issue 18).

The numbers GRU-64 (batch 64, fixed batches as in training.py) trained by `train(steps=N)`
calls in alternating rounds: Keras Adam through `keras_estimator.minimize`; compat.v1's
AdamOptimizer `.minimize(loss, global_step=get_global_step())`; and the compat.v1 one again with
a LoggingTensorHook logging the loss every 50 steps. Figures are each contender's best round.
"""

from __future__ import annotations

import logging

import keras

import keras_estimator as ke
import keras_estimator.tensorflow as tf
from keras_estimator.numbers import build_model
from keras_estimator.numbers.models import LengthMask

import common
import training


def model_fn(features, labels, mode, params):
    """The numbers GRU; the optimizer is Keras's or compat.v1's."""
    mask = LengthMask(name="length_mask")(features["sequences"], features["lengths"])
    x = keras.layers.Embedding(params["vocab_size"], 16, name="embedding")(features["sequences"])
    x = keras.layers.GRU(params["units"], name="gru_0")(x, mask=mask)
    probability = keras.layers.Dense(1, activation="sigmoid", name="parity")(x)
    loss = tf.reduce_mean(keras.losses.binary_crossentropy(tf.cast(labels, tf.float32)[:, None], probability))
    if params["optimizer"] == "keras":
        train_op = ke.minimize(loss, keras.optimizers.Adam(1e-2))
    else:
        train_op = tf.compat.v1.train.AdamOptimizer(1e-2).minimize(
            loss, global_step=tf.compat.v1.train.get_global_step())
    hooks = [ke.LoggingTensorHook({"loss": loss}, every_n_iter=params["log_every"])] if params["log_every"] else []
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, training_hooks=hooks)


def run(rounds: int = 7, steps: int = 150) -> dict:
    if common.QUICK:
        rounds, steps = 1, 5
    logging.getLogger("keras_estimator").setLevel(logging.WARNING)  # The hook's lines are not the point.
    features, labels, _ = common.fixed_batches()
    dataset = common.dataset_of(features, labels)
    vocab_size = build_model(common.PARAMS).get_layer("embedding").input_dim
    variants = {"keras optimizer": ("keras", 0), "compat.v1 optimizer": ("v1", 0),
                "compat.v1 optimizer + LoggingTensorHook every 50 steps": ("v1", 50)}
    trainers = {}
    try:
        for name, (optimizer, log_every) in variants.items():
            params = {"vocab_size": vocab_size, "units": common.PARAMS["units"], "optimizer": optimizer,
                      "log_every": log_every}
            config = ke.RunConfig(tf_random_seed=0)
            trainers[name] = training.EstimatorTrainer(
                lambda d, p=params, c=config: ke.Estimator(model_fn, d, c, p), dataset, steps)
        rates = common.alternate(trainers, rounds)
    finally:
        for trainer in trainers.values():
            trainer.close()
    best = {name: max(r) for name, r in rates.items()}
    base = "keras optimizer"
    return {"steps": steps, "rounds": rounds, "rates": best,
            "vs_keras": {name: best[name] / best[base] for name in best},
            "median_vs_keras": {name: common.ratio(rates, name, base) for name in best}}


if __name__ == "__main__":
    result = run()
    for name, rate in result["rates"].items():
        print(f"{name:56s} {rate:7.1f} steps/s  x{result['vs_keras'][name]:.2f} keras "
              f"(median x{result['median_vs_keras'][name]:.2f})")
