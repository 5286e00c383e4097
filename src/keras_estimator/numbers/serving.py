"""Serving numbers models from raw text: the `words` receiver, tokenizing inside the export."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from typing import Any, Mapping

import tensorflow as tf

from keras_estimator.export import ServingInputReceiver
from keras_estimator.numbers import data
from keras_estimator.numbers.vocabulary import OOV_ID, PAD_ID, Vocabulary

VOCABULARY_ASSET = "vocabulary.txt"
_FIRST_ID = 2


class WordsReceiver(tf.Module):
    """A `serving_input_receiver_fn` whose signature takes `words`: a batch of raw texts.

    In the exported graph it lower-cases each text, splits it into characters, maps them to ids
    with the vocabulary (shipped as the SavedModel asset `vocabulary.txt`; characters outside
    it get the out-of-vocabulary id 1), and pads to `{"sequences": int32 [B, T], "lengths":
    int32 [B]}`, the features numbers models take. Empty texts give length 0; invalid UTF-8
    becomes U+FFFD (out of vocabulary).

    Args:
        vocabulary: The vocabulary the model was trained with.
    """

    def __init__(self, vocabulary: Vocabulary):
        super().__init__(name="words_receiver")
        if not isinstance(vocabulary, Vocabulary):
            raise ValueError(f"vocabulary must be a numbers Vocabulary, got {type(vocabulary).__name__}.")
        directory = tempfile.mkdtemp(prefix="keras_estimator_vocab_")
        weakref.finalize(self, shutil.rmtree, directory, True)
        path = os.path.join(directory, VOCABULARY_ASSET)
        vocabulary.save(path)
        self.vocabulary = vocabulary
        self.vocabulary_file = tf.saved_model.Asset(path)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.TextFileInitializer(
                self.vocabulary_file, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
            ),
            default_value=-1,
        )

    def __call__(self) -> ServingInputReceiver:
        words = tf.compat.v1.placeholder(tf.string, [None], name="words")
        return ServingInputReceiver(self.features(words), {"words": words})

    def features(self, words: tf.Tensor) -> dict[str, tf.Tensor]:
        """`{"sequences", "lengths"}` of a [B] string tensor (also usable eagerly)."""
        lowered = tf.strings.lower(words, encoding="utf-8")
        chars = tf.strings.unicode_split(lowered, "UTF-8", errors="replace")
        found = tf.ragged.map_flat_values(self.table.lookup, chars)
        ids = tf.ragged.map_flat_values(
            lambda f: tf.where(f >= 0, f + _FIRST_ID, tf.constant(OOV_ID, tf.int64)), found
        )
        sequences = ids.to_tensor(default_value=PAD_ID)
        # At least one step wide, so a batch of empty texts still runs through the model.
        width = tf.maximum(tf.shape(sequences)[1], 1)
        sequences = tf.pad(sequences, [[0, 0], [0, width - tf.shape(sequences)[1]]])
        return {"sequences": tf.cast(sequences, tf.int32), "lengths": tf.cast(ids.row_lengths(), tf.int32)}


def serving_input_receiver_fn(
    params: Mapping[str, Any] | None = None, vocabulary: Vocabulary | None = None
) -> WordsReceiver:
    """The raw-words receiver for a numbers model trained with `params` (its `lang` and
    `max_num` give the vocabulary unless one is given).

    Raises:
        ValueError: for invalid params.
    """
    if vocabulary is None:
        p = data.resolve_params(params)
        vocabulary = data.vocabulary(p["lang"], p["max_num"])
    return WordsReceiver(vocabulary)


def words_input_fn(
    words: list[str], params: Mapping[str, Any] | None = None, batch_size: int = 64
) -> tf.data.Dataset:
    """A PREDICT dataset of `{"sequences", "lengths"}` batches from raw texts, tokenized by
    `WordsReceiver.features`: exactly what the exported raw-words signature computes.

    Args:
        words: The texts, in order (any case; characters outside the vocabulary become the
            out-of-vocabulary id).
        params: The model's numbers params (`lang` and `max_num` give the vocabulary).
        batch_size: Texts per batch.

    Raises:
        ValueError: for no words, a non-string word, or invalid params.
    """
    words = list(words)
    if not words:
        raise ValueError("words_input_fn needs at least one word.")
    bad = [w for w in words if not isinstance(w, str)]
    if bad:
        raise ValueError(f"words must be strings; got {bad[0]!r}.")
    receiver = serving_input_receiver_fn(params)
    return tf.data.Dataset.from_tensor_slices(tf.constant(words, tf.string)).batch(batch_size).map(receiver.features)
