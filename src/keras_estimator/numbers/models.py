"""Keras functional models for the numbers task: inputs `sequences` and `lengths`, one output per
target. Every architecture masks padding from `lengths`, so padding never changes a prediction."""

from __future__ import annotations

from typing import Any, Mapping

import keras
from keras import ops

from keras_estimator.numbers import data

MODEL_DEFAULTS: dict[str, Any] = {
    "model": "gru",  # gru | bigru | cnn
    "embedding_dim": 16,
    "units": 64,
    "layers": 1,
    "dropout": 0.0,
    "learning_rate": 1e-2,
    "kernel_size": 5,  # cnn only
}
ARCHITECTURES = ("gru", "bigru", "cnn")


@keras.saving.register_keras_serializable(package="keras_estimator")
class LengthMask(keras.layers.Layer):
    """Boolean mask [B, T]: True at positions before each sequence's length."""

    def call(self, sequences, lengths):
        positions = ops.arange(ops.shape(sequences)[1], dtype="int32")
        return ops.expand_dims(positions, 0) < ops.expand_dims(ops.cast(lengths, "int32"), 1)


@keras.saving.register_keras_serializable(package="keras_estimator")
class MaskedPooling(keras.layers.Layer):
    """Mean and max over the unmasked time steps of [B, T, C], concatenated to [B, 2C]."""

    def call(self, inputs, mask):
        weights = ops.cast(ops.expand_dims(mask, -1), inputs.dtype)
        count = ops.maximum(ops.sum(weights, axis=1), 1.0)
        mean = ops.sum(inputs * weights, axis=1) / count
        very_negative = ops.cast(-1e9, inputs.dtype)
        maximum = ops.max(ops.where(ops.expand_dims(mask, -1), inputs, very_negative), axis=1)
        return ops.concatenate([mean, maximum], axis=-1)


def _head(target: str, hidden, max_num: int):
    if target == "parity":
        return keras.layers.Dense(1, activation="sigmoid", name=target)(hidden)
    if target == "magnitude":
        return keras.layers.Dense(data.magnitude_classes(max_num), activation="softmax", name=target)(hidden)
    if target == "last_digit":
        return keras.layers.Dense(10, activation="softmax", name=target)(hidden)
    return keras.layers.Dense(1, name=target)(hidden)  # value: log10(n + 1)


def _loss_and_metric(target: str):
    if target == "parity":
        return "binary_crossentropy", keras.metrics.BinaryAccuracy(name="accuracy")
    if target == "value":
        return "mean_squared_error", keras.metrics.MeanAbsoluteError(name="mae")
    return "sparse_categorical_crossentropy", keras.metrics.SparseCategoricalAccuracy(name="accuracy")


def build_model(params: Mapping[str, Any] | None = None, vocab_size: int | None = None) -> keras.Model:
    """A compiled Keras functional model for the targets in params.

    Args:
        params: Data params (see `numbers.input_fn`: lang, max_num, targets) and model params:
            `model` ("gru", "bigru" or "cnn"), `embedding_dim` (16), `units` (64), `layers`
            (1), `dropout` (0.0, applied in training only), `learning_rate` (1e-2, Adam),
            `kernel_size` (5, cnn).
        vocab_size: Embedding input size; defaults to the vocabulary of params["lang"].

    Returns:
        A model with int32 inputs `sequences` [B, T] and `lengths` [B], and one output per
        target, named after it, compiled with a loss and metric per output.

    Raises:
        ValueError: for an unknown architecture, target, or a non-positive size.
    """
    p = {**MODEL_DEFAULTS, **data.resolve_params(params), **{k: v for k, v in (params or {}).items() if k in MODEL_DEFAULTS}}
    if p["model"] not in ARCHITECTURES:
        raise ValueError(f"Unknown model {p['model']!r}; choose from {list(ARCHITECTURES)}.")
    for key in ("embedding_dim", "units", "layers", "kernel_size"):
        if not isinstance(p[key], int) or p[key] <= 0:
            raise ValueError(f"params[{key!r}] must be a positive integer, got {p[key]!r}.")
    if not 0.0 <= float(p["dropout"]) < 1.0:
        raise ValueError(f"params['dropout'] must be in [0, 1), got {p['dropout']!r}.")
    if vocab_size is None:
        vocab_size = data.vocabulary(p["lang"], p["max_num"]).size

    sequences = keras.Input(shape=(None,), dtype="int32", name="sequences")
    lengths = keras.Input(shape=(), dtype="int32", name="lengths")
    mask = LengthMask(name="length_mask")(sequences, lengths)
    x = keras.layers.Embedding(vocab_size, p["embedding_dim"], name="embedding")(sequences)
    for i in range(p["layers"]):
        last = i == p["layers"] - 1
        if p["model"] == "cnn":
            x = keras.layers.Conv1D(p["units"], p["kernel_size"], padding="causal", activation="relu", name=f"conv_{i}")(x)
        else:
            rnn = keras.layers.GRU(p["units"], return_sequences=not last, name=f"gru_{i}")
            if p["model"] == "bigru":
                rnn = keras.layers.Bidirectional(rnn, name=f"bigru_{i}")
            x = rnn(x, mask=mask)
    if p["model"] == "cnn":
        x = MaskedPooling(name="pooling")(x, mask)
    if p["dropout"]:
        x = keras.layers.Dropout(p["dropout"], name="dropout")(x)
    outputs = {t: _head(t, x, p["max_num"]) for t in p["targets"]}
    model = keras.Model(inputs={"sequences": sequences, "lengths": lengths}, outputs=outputs, name=f"numbers_{p['model']}")
    losses, metrics = {}, {}
    for t in p["targets"]:
        losses[t], metric = _loss_and_metric(t)
        metrics[t] = [metric]
    model.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]), loss=losses, metrics=metrics)
    return model
