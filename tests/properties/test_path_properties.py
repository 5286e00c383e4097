"""Property: one trained network gives the same predictions through every path, whatever the
numbers and the batching: Keras `predict` (weights loaded back with `load_keras_model`),
`Estimator.predict` through `model_to_estimator`, and the exported SavedModel fed raw words.

The mutant test exports the same checkpoint with deliberately broken receivers and asserts
that the property finds the disagreement.
"""

import functools
import shutil
import tempfile
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import example, given
from hypothesis import strategies as st

import keras_estimator as ke
from keras_estimator.numbers import ARCHITECTURES, build_model, input_fn, number_words, numbers_input_fn
from keras_estimator.numbers import data as numbers_data
from keras_estimator.numbers.serving import WordsReceiver
from property_support import assert_catches

PARAMS = {"lang": "en", "max_num": 1_000_000, "targets": ("parity", "magnitude"), "units": 8,
          "embedding_dim": 4, "batch_size": 16, "pool_size": 2000, "eval_size": 100}
TOLERANCE = 1e-5

numbers = st.lists(st.integers(0, PARAMS["max_num"] - 1), min_size=1, max_size=12)
batch_sizes = st.integers(1, 8)
# Per number: sent as written, or upper-cased (the receiver lower-cases it back).
shouting = st.lists(st.booleans(), min_size=12, max_size=12)


class Paths:
    """A numbers model trained a few steps through the bridge, then served three ways."""

    def __init__(self, arch, root):
        keras.utils.set_random_seed(3)
        params = {**PARAMS, "model": arch}
        self.model_dir = f"{root}/model"
        self.estimator = ke.model_to_estimator(
            build_model(params), model_dir=self.model_dir,
            config=ke.RunConfig(log_step_count_steps=None, save_summary_steps=None))
        self.estimator.train(lambda: input_fn(params), steps=5)
        self.keras_model = ke.load_keras_model(self.model_dir)
        self.vocabulary = numbers_data.vocabulary(PARAMS["lang"], PARAMS["max_num"])
        self.root = root

    def served(self, receiver):
        """The serving_default signature of an export with this receiver."""
        path = self.estimator.export_saved_model(f"{self.root}/export", receiver)
        return tf.saved_model.load(path.decode()).signatures["serving_default"]


@functools.lru_cache(maxsize=None)
def paths(arch):
    root = tempfile.mkdtemp(prefix="path_properties_")
    made = Paths(arch, root)
    weakref.finalize(made, shutil.rmtree, root, True)
    made.serve = made.served(WordsReceiver(made.vocabulary))
    return made


def check_paths_agree(p, serve, values, batch_size, shout):
    """Keras predict, Estimator.predict and the SavedModel from raw words agree (1e-5)."""
    params = {**PARAMS, "batch_size": batch_size}
    dataset = lambda: numbers_input_fn(values, params, ke.ModeKeys.PREDICT)  # noqa: E731
    from_keras = p.keras_model.predict(dataset(), verbose=0)
    from_estimator = list(p.estimator.predict(dataset))
    words = []
    for n, loud in zip(values, shout):
        text = number_words(n, PARAMS["lang"])
        words.append(text.upper() if loud and text.upper().lower() == text else text)
    from_serving = serve(words=tf.constant(words))
    for target in PARAMS["targets"]:
        expected = from_keras[target]
        estimated = np.stack([row[target] for row in from_estimator])
        np.testing.assert_allclose(estimated, expected, atol=TOLERANCE, err_msg=f"Estimator.predict {target}")
        np.testing.assert_allclose(from_serving[target].numpy(), expected, atol=TOLERANCE,
                                   err_msg=f"SavedModel from raw words {target}: {words}")


@pytest.mark.parametrize("arch", ARCHITECTURES)
@given(values=numbers, batch_size=batch_sizes, shout=shouting)
@example(values=[0, 999_999, 42], batch_size=2, shout=[True] * 12)
@example(values=[0, 1], batch_size=1, shout=[False] * 12)  # Shrunk: lengths must not be the batch width.
def test_keras_estimator_and_saved_model_agree(arch, values, batch_size, shout):
    p = paths(arch)
    check_paths_agree(p, p.serve, values, batch_size, shout)


class CaseSensitiveReceiver(WordsReceiver):
    """Broken: looks characters up without lower-casing."""

    def features(self, words):
        chars = tf.strings.unicode_split(words, "UTF-8", errors="replace")
        ids = tf.ragged.map_flat_values(
            lambda c: tf.where(self.table.lookup(c) >= 0, self.table.lookup(c) + 2, tf.constant(1, tf.int64)), chars)
        return {"sequences": tf.cast(ids.to_tensor(), tf.int32), "lengths": tf.cast(ids.row_lengths(), tf.int32)}


class WidthLengthsReceiver(WordsReceiver):
    """Broken: gives every text the batch width as its length, so padding is read as text."""

    def features(self, words):
        features = super().features(words)
        width = tf.shape(features["sequences"])[1]
        return {**features, "lengths": tf.fill(tf.shape(features["lengths"]), width)}


@pytest.mark.parametrize("receiver", [CaseSensitiveReceiver, WidthLengthsReceiver])
def test_path_property_catches_a_broken_receiver(receiver):
    p = paths("gru")
    broken = p.served(receiver(p.vocabulary))
    assert_catches(lambda *drawn: check_paths_agree(p, broken, *drawn), [numbers, batch_sizes, shouting])
