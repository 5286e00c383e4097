"""Properties of the numbers input pipeline: padded batches are exact, whatever the numbers,
language, batch size, pipeline or bucketing.

Each property is a plain `check_*` function; the `test_*_mutant` tests run it against a
deliberately broken pipeline and assert hypothesis finds a counterexample, so no property here
can pass vacuously.
"""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import example, given
from hypothesis import strategies as st

from keras_estimator.numbers import Vocabulary, number_words, numbers_input_fn
from keras_estimator.numbers import data as numbers_data
from property_support import assert_catches

MAX_NUM = 1_000_000
LANGS = ("en", "de", "fr", "ru", "es")

numbers_lists = st.lists(st.integers(0, MAX_NUM - 1), min_size=1, max_size=24)
pipeline_params = st.fixed_dictionaries({
    "lang": st.sampled_from(LANGS),
    "batch_size": st.integers(1, 9),
    "pipeline": st.sampled_from(["fast", "generator"]),
})
boundaries = st.lists(st.integers(2, 80), min_size=1, max_size=4, unique=True).map(sorted)


def _params(p, **extra):
    return {"max_num": MAX_NUM, "eval_size": 10, "targets": "parity", **p, **extra}


def _rows(dataset):
    """[(ids without padding, length, parity)] in dataset order, checking each batch's layout."""
    rows = []
    for features, parity in dataset:
        seq, lengths = features["sequences"].numpy(), features["lengths"].numpy()
        assert features["sequences"].dtype == tf.int32 and features["lengths"].dtype == tf.int32
        assert seq.shape[0] == lengths.shape[0] == parity.shape[0]
        assert seq.shape[1] == lengths.max(), f"batch width {seq.shape[1]} != longest length {lengths.max()}"
        for row, n, label in zip(seq, lengths, parity.numpy()):
            assert np.all(row[n:] == 0), f"padding after length {n} is not all zeros: {row}"
            assert np.all(row[:n] != 0), f"a padding id inside the length {n}: {row}"
            rows.append((tuple(row[:n]), int(n), int(label)))
    return rows


def check_padded_batches(make_dataset, numbers, p):
    """Batches hold each number's ids and length exactly, in order, zero-padded to the batch's
    longest row, with its label."""
    params = _params(p)
    vocab = numbers_data.vocabulary(p["lang"], MAX_NUM)
    expected = []
    for n in numbers:
        ids = vocab.encode(number_words(n, p["lang"]))
        expected.append((tuple(ids), len(ids), n % 2))
    assert _rows(make_dataset(numbers, params)) == expected


def check_bucketing(make_dataset, numbers, p, bounds):
    """Bucketing by length regroups examples but never changes, drops or repeats one."""
    plain = _rows(make_dataset(numbers, _params(p)))
    bucketed = _rows(make_dataset(numbers, _params(p, bucket_boundaries=bounds)))
    assert sorted(bucketed) == sorted(plain)


@given(numbers_lists, pipeline_params)
@example([0], {"lang": "en", "batch_size": 1, "pipeline": "fast"})
@example([7, 1000, 999_999], {"lang": "de", "batch_size": 2, "pipeline": "generator"})
@example([0, 1], {"lang": "en", "batch_size": 2, "pipeline": "fast"})  # Shrunk: padding must be zeros.
def test_padded_batches_are_exact(numbers, p):
    check_padded_batches(numbers_input_fn, numbers, p)


@given(numbers_lists, pipeline_params, boundaries)
@example([0], {"lang": "en", "batch_size": 1, "pipeline": "fast"}, [2])  # Shrunk: truncation to a boundary.
def test_bucketing_never_changes_an_example(numbers, p, bounds):
    check_bucketing(numbers_input_fn, numbers, p, bounds)


def check_round_trip(vocab, text):
    assert vocab.decode(vocab.encode(text)) == text


@given(st.integers(0, MAX_NUM - 1), st.sampled_from(LANGS))
def test_decode_of_encode_round_trips_every_number(number, lang):
    check_round_trip(numbers_data.vocabulary(lang, MAX_NUM), number_words(number, lang))


@given(st.data())
def test_decode_of_encode_round_trips_any_text_over_the_vocabulary(data):
    lang = data.draw(st.sampled_from(LANGS))
    vocab = numbers_data.vocabulary(lang, MAX_NUM)
    check_round_trip(vocab, data.draw(st.text(alphabet=vocab.chars, max_size=40)))


# --- Deliberately broken variants: each property must catch its own. -----------------------

def _mapped(fn):
    """numbers_input_fn with each (features, labels) batch passed through fn."""
    def make(numbers, params):
        return numbers_input_fn(numbers, params).map(fn)
    return make


MUTANT_PIPELINES = {
    # Pads every batch three columns wider than its longest row.
    "pads wider than the batch": _mapped(
        lambda f, y: ({**f, "sequences": tf.pad(f["sequences"], [[0, 0], [0, 3]])}, y)),
    # Pads with the out-of-vocabulary id instead of 0.
    "pads with a non-zero id": _mapped(
        lambda f, y: ({**f, "sequences": tf.where(f["sequences"] == 0, 1, f["sequences"])}, y)),
    # Counts one character too few.
    "length off by one": _mapped(lambda f, y: ({**f, "lengths": tf.maximum(f["lengths"] - 1, 0)}, y)),
}


@pytest.mark.parametrize("mutant", sorted(MUTANT_PIPELINES))
def test_padded_batches_property_catches_mutant(mutant):
    broken = MUTANT_PIPELINES[mutant]
    assert_catches(lambda numbers, p: check_padded_batches(broken, numbers, p), [numbers_lists, pipeline_params])


def test_bucketing_property_catches_truncation_to_the_first_boundary():
    def truncating(numbers, params):
        dataset = numbers_input_fn(numbers, params)
        if not params.get("bucket_boundaries"):
            return dataset
        width = params["bucket_boundaries"][0]
        return dataset.map(lambda f, y: ({"sequences": f["sequences"][:, :width],
                                          "lengths": tf.minimum(f["lengths"], width)}, y))

    assert_catches(lambda numbers, p, bounds: check_bucketing(truncating, numbers, p, bounds),
             [numbers_lists, pipeline_params, boundaries])


def test_round_trip_property_catches_a_missing_character():
    vocab = numbers_data.vocabulary("en", MAX_NUM)
    broken = Vocabulary(vocab.chars[:-1])
    assert_catches(lambda text: check_round_trip(broken, text), [st.text(alphabet=vocab.chars, max_size=40)])
