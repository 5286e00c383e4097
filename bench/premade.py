"""Premade estimators against the same network as a Keras model through `model_to_estimator`.

Generated tabular data (4 numeric features, 2 string categories; batch 256): DNNClassifier
([64, 32], numeric and embedded/indicator columns) and LinearClassifier (the same columns plus
a crossed one) against functional Keras models with one `keras.Input` per feature,
`ke.DenseFeatures` / `ke.LinearModel` over the same columns and the same layers, compiled with
the same optimizer, trained through `model_to_estimator`. Each contender trains by
`train(steps=N)` calls in alternating rounds, after one call that traces; best round each.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

import keras_estimator as ke

import common
import training

BATCH = 256
ROWS = 8192
CITIES = [f"city_{i}" for i in range(50)]
KINDS = ["a", "b", "c", "d"]


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 4)).astype("float32")
    city = rng.choice(CITIES, ROWS)
    kind = rng.choice(KINDS, ROWS)
    score = x[:, 0] - x[:, 1] + 0.5 * (kind == "a") + 0.02 * np.char.str_len(city.astype(str))
    features = {f"x{i}": x[:, i] for i in range(4)} | {"city": city, "kind": kind}
    return features, (score > np.median(score)).astype("int64")


def _columns(linear: bool) -> list:
    numeric = [tf.feature_column.numeric_column(f"x{i}") for i in range(4)]
    city = tf.feature_column.categorical_column_with_vocabulary_list("city", CITIES)
    kind = tf.feature_column.categorical_column_with_vocabulary_list("kind", KINDS)
    if linear:
        return numeric + [city, kind, tf.feature_column.crossed_column(["city", "kind"], 200)]
    return numeric + [tf.feature_column.embedding_column(city, 8), tf.feature_column.indicator_column(kind)]


def _keras_model(linear: bool) -> keras.Model:
    inputs = {f"x{i}": keras.Input((), name=f"x{i}") for i in range(4)}
    inputs |= {k: keras.Input((), name=k, dtype="string") for k in ("city", "kind")}
    if linear:
        outputs = keras.layers.Activation("sigmoid")(ke.LinearModel(_columns(True))(inputs))
    else:
        x = ke.DenseFeatures(_columns(False))(inputs)
        x = keras.layers.Dense(64, activation="relu")(x)
        x = keras.layers.Dense(32, activation="relu")(x)
        outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adagrad(0.05), loss="binary_crossentropy")
    return model


def run(rounds: int = 5, steps: int = 2000) -> dict:
    if common.QUICK:
        rounds, steps = 1, 5
    features, labels = _data()
    dataset = tf.data.Dataset.from_tensor_slices((features, labels)).batch(BATCH).repeat().prefetch(2)
    adagrad = keras.optimizers.Adagrad(0.05)
    contenders = {
        "DNNClassifier": lambda d: ke.DNNClassifier([64, 32], _columns(False), d, optimizer=adagrad),
        "DNN as Keras model (model_to_estimator)": lambda d: ke.model_to_estimator(_keras_model(False), model_dir=d),
        "LinearClassifier": lambda d: ke.LinearClassifier(_columns(True), d, optimizer=adagrad),
        "linear as Keras model (model_to_estimator)": lambda d: ke.model_to_estimator(_keras_model(True), model_dir=d),
    }
    trainers = {}
    try:
        for name, make in contenders.items():
            trainers[name] = training.EstimatorTrainer(make, dataset, steps)
        rates = common.alternate(trainers, rounds)
    finally:
        for trainer in trainers.values():
            trainer.close()
    best = {name: max(r) * BATCH for name, r in rates.items()}
    pairs = {"DNNClassifier": "DNN as Keras model (model_to_estimator)",
             "LinearClassifier": "linear as Keras model (model_to_estimator)"}
    return {"rounds": rounds, "steps": steps, "batch": BATCH, "examples_per_s": best,
            "vs_keras": {a: best[a] / best[b] for a, b in pairs.items()},
            "median_vs_keras": {a: common.ratio(rates, a, b) for a, b in pairs.items()}}


if __name__ == "__main__":
    result = run()
    for name, rate in result["examples_per_s"].items():
        print(f"{name:44s} {rate:9.0f} examples/s")
    for name, ratio in result["vs_keras"].items():
        print(f"{name} / Keras model: x{ratio:.2f} (median x{result['median_vs_keras'][name]:.2f})")
