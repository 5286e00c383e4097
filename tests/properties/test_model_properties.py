"""Properties of the numbers models (every architecture): a prediction depends on its own
example only, never on padding or on which other examples share the batch.

Each property is a plain `check_*` function of a model; the mutant tests build deliberately
broken variants (masking removed or wrong) and assert that hypothesis finds a counterexample.
"""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import example, given
from hypothesis import strategies as st

from keras_estimator.numbers import ARCHITECTURES, build_model
from keras_estimator.numbers.models import LengthMask, MaskedPooling
from property_support import assert_catches

TARGETS = ("parity", "magnitude", "value", "last_digit")
PARAMS = {"lang": "en", "max_num": 1_000_000, "targets": TARGETS, "units": 8, "embedding_dim": 4, "dropout": 0.3}
VOCAB_SIZE = 30
TOLERANCE = 1e-5

# Examples are id sequences (ids 2.. are characters); length 0 is an empty text.
sequences = st.lists(st.integers(2, VOCAB_SIZE - 1), min_size=0, max_size=24)
batches = st.lists(sequences, min_size=1, max_size=6)


class Predictor:
    """A model's inference-mode predictions, traced once for any batch size and width."""

    def __init__(self, model):
        self.model = model
        self._fn = tf.function(
            lambda s, n: model({"sequences": s, "lengths": n}, training=False),
            input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)],
        )

    def __call__(self, rows, extra_padding=0):
        """Predictions (dict of numpy [B, ...]) for id lists, padded to the longest + extra."""
        width = max(len(r) for r in rows) + extra_padding
        padded = np.zeros((len(rows), max(width, 1)), np.int32)
        for i, r in enumerate(rows):
            padded[i, : len(r)] = r
        out = self._fn(tf.constant(padded), tf.constant([len(r) for r in rows], tf.int32))
        return {k: v.numpy() for k, v in out.items()}


@functools.lru_cache(maxsize=None)
def predictor(arch):
    keras.utils.set_random_seed(1)
    return Predictor(build_model({**PARAMS, "model": arch}, vocab_size=VOCAB_SIZE))


def _close(actual, expected, what):
    for key in expected:
        np.testing.assert_allclose(actual[key], expected[key], atol=TOLERANCE, rtol=TOLERANCE, err_msg=f"{what}: {key}")


def check_alone_equals_in_any_batch(predict, rows, index, extra_padding):
    """An example's prediction alone (no padding) equals its prediction inside a batch with
    any co-members and any extra padding."""
    index %= len(rows)
    alone = predict([rows[index]])
    in_batch = predict(rows, extra_padding)
    _close({k: v[index : index + 1] for k, v in in_batch.items()}, alone, "alone vs in a padded batch")


def check_permutation_equivariance(predict, rows, order):
    """Reordering a batch reorders its predictions and changes nothing else."""
    order = [i % len(rows) for i in order][: len(rows)]
    order = list(dict.fromkeys(order)) + [i for i in range(len(rows)) if i not in order]
    base = predict(rows)
    permuted = predict([rows[i] for i in order])
    _close(permuted, {k: v[order] for k, v in base.items()}, "permuted batch")


def check_batch_loss_is_mean_of_example_losses(predict, rows, extra_padding, seed):
    """The compiled loss of a padded batch equals the mean of each example's loss alone."""
    model = predict.model
    rng = np.random.default_rng(seed)
    labels = {
        "parity": rng.integers(0, 2, (len(rows), 1)).astype(np.float32),
        "magnitude": rng.integers(0, 6, len(rows)),  # 6 digits below max_num
        "value": rng.uniform(0, 6, (len(rows), 1)).astype(np.float32),
        "last_digit": rng.integers(0, 10, len(rows)),
    }
    labels = {k: v for k, v in labels.items() if k in model.output_names}

    def loss(y, y_pred):
        return float(model.compute_loss(y=y, y_pred=y_pred, training=False))

    batch = loss(labels, predict(rows, extra_padding))
    singles = [loss({k: v[i : i + 1] for k, v in labels.items()}, predict([r])) for i, r in enumerate(rows)]
    np.testing.assert_allclose(batch, np.mean(singles), atol=TOLERANCE, rtol=TOLERANCE)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@given(rows=batches, index=st.integers(0, 5), extra_padding=st.integers(0, 12))
@example(rows=[[], [5, 6, 7]], index=0, extra_padding=0)  # An empty text beside a real one.
# Shrunk counterexamples against the broken variants below, kept as regression examples.
@example(rows=[[]], index=0, extra_padding=2)  # unmasked recurrence, pooling over padding
@example(rows=[[2]], index=0, extra_padding=1)  # convolution that sees padding
@example(rows=[[], [2]], index=1, extra_padding=0)  # mask from the first row's length
def test_prediction_alone_equals_prediction_in_any_padded_batch(arch, rows, index, extra_padding):
    check_alone_equals_in_any_batch(predictor(arch), rows, index, extra_padding)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@given(rows=batches, order=st.lists(st.integers(0, 5), min_size=6, max_size=6))
@example(rows=[[], [2]], order=[1, 0, 0, 0, 0, 0])  # Shrunk: mask from the first row's length.
def test_predictions_are_permutation_equivariant(arch, rows, order):
    check_permutation_equivariance(predictor(arch), rows, order)


@pytest.mark.parametrize("arch", ARCHITECTURES)
@given(rows=batches, extra_padding=st.integers(0, 12), seed=st.integers(0, 2**16))
@example(rows=[[]], extra_padding=2, seed=0)  # Shrunk counterexamples of the broken variants.
@example(rows=[[2]], extra_padding=1, seed=0)
@example(rows=[[], [2]], extra_padding=0, seed=0)
def test_padded_batch_loss_is_the_mean_of_example_losses(arch, rows, extra_padding, seed):
    check_batch_loss_is_mean_of_example_losses(predictor(arch), rows, extra_padding, seed)


# --- Deliberately broken variants --------------------------------------------------------

class FirstRowLengthMask(keras.layers.Layer):
    """Broken: every row masked with the first row's length."""

    def call(self, sequences, lengths):
        positions = keras.ops.arange(keras.ops.shape(sequences)[1], dtype="int32")
        return keras.ops.expand_dims(positions, 0) < keras.ops.cast(lengths[:1], "int32")[:, None]


def _broken_model(kind):
    """A parity model like build_model's, with one deliberate masking bug."""
    keras.utils.set_random_seed(1)
    seqs = keras.Input(shape=(None,), dtype="int32", name="sequences")
    lengths = keras.Input(shape=(), dtype="int32", name="lengths")
    mask = (FirstRowLengthMask() if kind == "mask from the first row" else LengthMask())(seqs, lengths)
    x = keras.layers.Embedding(VOCAB_SIZE, 4)(seqs)
    if kind == "gru without mask":
        x = keras.layers.GRU(8)(x)
    elif kind == "bigru without mask":
        x = keras.layers.Bidirectional(keras.layers.GRU(8))(x)
    elif kind == "cnn pooling averages padding":
        x = keras.layers.Conv1D(8, 5, padding="causal", activation="relu")(x)
        x = keras.layers.Concatenate()([keras.layers.GlobalAveragePooling1D()(x), keras.layers.GlobalMaxPooling1D()(x)])
    elif kind == "cnn sees padding (same, not causal)":
        x = keras.layers.Conv1D(8, 5, padding="same", activation="relu")(x)
        x = MaskedPooling()(x, mask)
    else:  # "mask from the first row"
        x = keras.layers.GRU(8)(x, mask=mask)
    out = keras.layers.Dense(1, activation="sigmoid", name="parity")(x)
    model = keras.Model({"sequences": seqs, "lengths": lengths}, {"parity": out})
    model.compile(loss={"parity": "binary_crossentropy"})
    return Predictor(model)


# Which property catches which broken variant (the closing note of issue 6 lists this table).
CATCHES = {
    "gru without mask": ("alone vs batch", "loss"),
    "bigru without mask": ("alone vs batch", "loss"),
    "cnn pooling averages padding": ("alone vs batch", "loss"),
    "cnn sees padding (same, not causal)": ("alone vs batch", "loss"),
    "mask from the first row": ("alone vs batch", "permutation", "loss"),
}
PROPERTIES = {
    "alone vs batch": (check_alone_equals_in_any_batch, [batches, st.integers(0, 5), st.integers(0, 12)]),
    "permutation": (check_permutation_equivariance, [batches, st.lists(st.integers(0, 5), min_size=6, max_size=6)]),
    "loss": (check_batch_loss_is_mean_of_example_losses, [batches, st.integers(0, 12), st.integers(0, 2**16)]),
}


@pytest.mark.parametrize("kind, prop", [(k, p) for k, props in CATCHES.items() for p in props])
def test_property_catches_broken_masking(kind, prop):
    check, strategies = PROPERTIES[prop]
    broken = _broken_model(kind)
    assert_catches(lambda *drawn: check(broken, *drawn), strategies)
