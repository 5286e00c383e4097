"""Training throughput of the default numbers model (GRU-64, batch 64) by four paths.

- estimator: `Estimator` with a hand-written model_fn (the same layers as the numbers gru);
- bridge: `model_to_estimator` on `numbers.build_model`;
- fit: Keras `fit` with default settings, and with `steps_per_execution=50`;
- raw loop: a `tf.function` train step in a Python loop (the floor any wrapper is measured
  against);
- each of estimator, bridge and raw loop again with XLA (`RunConfig(jit_compile=True)`,
  `tf.function(jit_compile=True)`).

All train on the same fixed-width batches (`common.fixed_batches`), in alternating rounds.
Estimator figures are whole `train(steps=N)` calls with default RunConfig: restore, iterator,
loops, the final checkpoint and all.
"""

from __future__ import annotations

import shutil
import tempfile

import keras
import tensorflow as tf

import keras_estimator as ke
from keras_estimator.numbers import build_model
from keras_estimator.numbers.models import LengthMask

import common


def numbers_gru_model_fn(features, labels, mode, params):
    """The numbers gru written as a model_fn: what a migrated tf.estimator user writes."""
    mask = LengthMask(name="length_mask")(features["sequences"], features["lengths"])
    x = keras.layers.Embedding(params["vocab_size"], 16, name="embedding")(features["sequences"])
    x = keras.layers.GRU(params["units"], name="gru_0")(x, mask=mask)
    probability = keras.layers.Dense(1, activation="sigmoid", name="parity")(x)
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"parity": probability})
    loss = keras.losses.binary_crossentropy(tf.cast(labels, tf.float32)[:, None], probability)
    loss = tf.reduce_mean(loss)
    if mode == ke.ModeKeys.TRAIN:
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.Adam(1e-2)))
    return ke.EstimatorSpec(mode, loss=loss)


class EstimatorTrainer:
    """Rate of `estimator.train(steps)` calls, after one call that traces."""

    def __init__(self, make_estimator, dataset, steps: int):
        self.model_dir = tempfile.mkdtemp(prefix="bench_estimator_")
        self.estimator = make_estimator(self.model_dir)
        self.dataset, self.steps = dataset, steps
        self.estimator.train(lambda: self.dataset, steps=2)  # Builds, traces, first checkpoint.

    def __call__(self) -> float:
        return self.steps / common.timed(lambda: self.estimator.train(lambda: self.dataset, steps=self.steps))

    def close(self):
        shutil.rmtree(self.model_dir, ignore_errors=True)


class FitTrainer:
    def __init__(self, dataset, steps: int, steps_per_execution: int = 1):
        self.model = build_model(common.PARAMS)
        if steps_per_execution != 1:
            self.model.compile(optimizer=self.model.optimizer, loss=self.model.loss,
                               steps_per_execution=steps_per_execution)
        self.dataset, self.steps = dataset, steps
        self.model.fit(dataset, steps_per_epoch=min(steps, 50), epochs=1, verbose=0)  # Traces.

    def __call__(self) -> float:
        return self.steps / common.timed(
            lambda: self.model.fit(self.dataset, steps_per_epoch=self.steps, epochs=1, verbose=0))


class RawLoop:
    """A `tf.function` step (tape, Keras loss, optimizer) called once per batch."""

    def __init__(self, dataset, steps: int, jit_compile: bool = False):
        model = build_model(common.PARAMS)
        optimizer = model.optimizer
        loss_fn = keras.losses.BinaryCrossentropy()

        @tf.function(jit_compile=jit_compile)
        def step(features, labels):
            with tf.GradientTape() as tape:
                probability = model(features, training=True)["parity"]
                loss = loss_fn(tf.cast(labels, tf.float32)[:, None], probability)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        self.step, self.steps = step, steps
        self.iterator = iter(dataset)
        for _ in range(3):  # Traces (and compiles with XLA).
            step(*next(self.iterator))

    def __call__(self) -> float:
        def run():
            for _ in range(self.steps):
                loss = self.step(*next(self.iterator))
            float(loss)  # Waits for the last step.
        return self.steps / common.timed(run)


def run(rounds: int = 7, steps: int = 150) -> dict:
    """Steps/s of each path and the ratios the issue sets targets for.

    This machine is a VM whose speed drops by ~40% for seconds at a time (a host-side limit),
    so contenders run short calls in many alternating rounds; `best` is each contender's fastest
    round (its unthrottled speed) and ratios compare bests; `median` ratios are medians of the
    per-round ratios, for reference.
    """
    if common.QUICK:
        rounds, steps = 1, 5
    features, labels, width = common.fixed_batches()
    dataset = common.dataset_of(features, labels)
    vocab_size = build_model(common.PARAMS).get_layer("embedding").input_dim
    params = {"vocab_size": vocab_size, "units": common.PARAMS["units"]}
    estimators = []

    def estimator_path(jit: bool):
        config = ke.RunConfig(tf_random_seed=0, jit_compile=jit)
        trainer = EstimatorTrainer(lambda d: ke.Estimator(numbers_gru_model_fn, d, config, params), dataset, steps)
        estimators.append(trainer)
        return trainer

    def bridge_path(jit: bool):
        config = ke.RunConfig(tf_random_seed=0, jit_compile=jit)
        trainer = EstimatorTrainer(
            lambda d: ke.model_to_estimator(build_model(common.PARAMS), model_dir=d, config=config), dataset, steps)
        estimators.append(trainer)
        return trainer

    try:
        contenders = {
            "estimator": estimator_path(False),
            "bridge": bridge_path(False),
            "fit": FitTrainer(dataset, steps),
            "fit, steps_per_execution=50": FitTrainer(dataset, steps, steps_per_execution=50),
            "raw tf.function loop": RawLoop(dataset, steps),
            "estimator, jit_compile": estimator_path(True),
            "bridge, jit_compile": bridge_path(True),
            "raw loop, jit_compile": RawLoop(dataset, steps, jit_compile=True),
        }
        rates = common.alternate(contenders, rounds)
    finally:
        for trainer in estimators:
            trainer.close()
    raw, fit = "raw tf.function loop", "fit"
    best = {name: max(r) for name, r in rates.items()}
    return {
        "width": width,
        "steps": steps,
        "rounds": rounds,
        "rates": best,
        "median_rates": {name: common.median(r) for name, r in rates.items()},
        "vs_raw": {name: best[name] / best[raw] for name in rates},
        "vs_fit": {name: best[name] / best[fit] for name in rates},
        "median_vs_raw": {name: common.ratio(rates, name, raw) for name in rates},
        "median_vs_fit": {name: common.ratio(rates, name, fit) for name in rates},
    }


if __name__ == "__main__":
    result = run()
    print(f"GRU-64, batch 64, padded width {result['width']}, {result['steps']} steps x {result['rounds']} rounds")
    for name, rate in result["rates"].items():
        print(f"{name:32s} {rate:7.1f} steps/s  x{result['vs_raw'][name]:.2f} raw  x{result['vs_fit'][name]:.2f} fit")
