"""The numbers input_fn: shapes, labels, held-out data, both pipelines."""

import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from keras_estimator.numbers import data, input_fn, number_words, numbers_input_fn, target_values

SMALL = {"max_num": 100_000, "pool_size": 2000, "eval_size": 300, "batch_size": 16}


def _numbers_of(features, vocab, lang="en"):
    """Decode each padded row back to its number by looking it up among known words."""
    return [vocab.decode(row[:n]) for row, n in zip(features["sequences"].numpy(), features["lengths"].numpy())]


@pytest.mark.parametrize("pipeline", ["fast", "generator"])
def test_padded_batches_have_documented_shapes_and_exact_lengths(pipeline):
    params = {**SMALL, "pipeline": pipeline, "targets": "parity,magnitude,value,last_digit"}
    features, labels = next(iter(input_fn(params)))
    seq, lengths = features["sequences"], features["lengths"]
    assert seq.dtype == tf.int32 and lengths.dtype == tf.int32
    assert seq.shape[0] == lengths.shape[0] == 16 and seq.shape[1] == int(tf.reduce_max(lengths))
    for row, n in zip(seq.numpy(), lengths.numpy()):
        assert np.all(row[:n] != 0) and np.all(row[n:] == 0)
    assert set(labels) == {"parity", "magnitude", "value", "last_digit"}
    assert labels["parity"].dtype == tf.int32 and labels["value"].dtype == tf.float32


def test_labels_are_correct_for_known_numbers():
    vocab = data.vocabulary("en", SMALL["max_num"])
    words_to_number = {number_words(int(n), "en"): int(n) for n in data.eval_numbers(100_000, 300, 0)}
    params = {**SMALL, "targets": ("parity", "magnitude", "value", "last_digit")}
    for features, labels in input_fn(params, ke.ModeKeys.EVAL).take(3):
        numbers = np.array([words_to_number[w] for w in _numbers_of(features, vocab)])
        for target in data.TARGETS:
            np.testing.assert_allclose(labels[target].numpy(), target_values(numbers, target), rtol=1e-6)
    assert list(target_values(np.array([0, 7, 10, 999, 1000]), "magnitude")) == [0, 0, 1, 2, 3]


def test_single_target_labels_are_a_tensor_and_predict_has_no_labels():
    _, labels = next(iter(input_fn(SMALL)))
    assert isinstance(labels, tf.Tensor) and set(np.unique(labels.numpy())) <= {0, 1}
    element = next(iter(input_fn(SMALL, ke.ModeKeys.PREDICT)))
    assert set(element) == {"sequences", "lengths"}


def test_eval_is_fixed_reproducible_and_disjoint_from_train():
    eval_numbers = data.eval_numbers(100_000, 300, 0)
    assert len(set(eval_numbers)) == 300
    assert set(eval_numbers).isdisjoint(data.train_numbers(100_000, 2000, 300, 0))
    first = [f["sequences"].numpy().tolist() for f, _ in input_fn(SMALL, ke.ModeKeys.EVAL)]
    again = [f["sequences"].numpy().tolist() for f, _ in input_fn(SMALL, ke.ModeKeys.EVAL)]
    assert first == again and sum(len(b) for b in first) == 300
    other_seed = data.eval_numbers(100_000, 300, 1)
    assert not np.array_equal(eval_numbers, other_seed)


def test_both_pipelines_encode_identically():
    fast = list(input_fn({**SMALL, "pipeline": "fast"}, ke.ModeKeys.EVAL))
    slow = list(input_fn({**SMALL, "pipeline": "generator"}, ke.ModeKeys.EVAL))
    assert len(fast) == len(slow)
    for (f1, l1), (f2, l2) in zip(fast, slow):
        np.testing.assert_array_equal(f1["sequences"], f2["sequences"])
        np.testing.assert_array_equal(l1, l2)


def test_bucketing_keeps_every_example():
    plain = input_fn({**SMALL, "batch_size": 7}, ke.ModeKeys.EVAL)
    bucketed = input_fn({**SMALL, "batch_size": 7, "bucket_boundaries": [20, 40]}, ke.ModeKeys.EVAL)

    def rows(ds):
        return sorted(tuple(r[:n]) for f, _ in ds for r, n in zip(f["sequences"].numpy().tolist(), f["lengths"].numpy()))

    assert rows(plain) == rows(bucketed)


@pytest.mark.parametrize("bad, message", [
    ({"targets": "parity,colour"}, r"Unknown target\(s\) \['colour'\]"),
    ({"batch_size": 0}, r"params\['batch_size'\] must be a positive integer"),
    ({"pipeline": "magic"}, "'fast' or 'generator'"),
    ({"eval_size": 200_000}, "must be below max_num"),
])
def test_bad_params_name_the_field(bad, message):
    with pytest.raises(ValueError, match=message):
        input_fn({**SMALL, **bad})



@pytest.mark.parametrize("pipeline", ["fast", "generator"])
def test_numbers_input_fn_reads_the_given_numbers_once_in_order(pipeline):
    numbers = [7, 0, 12345, 40, 99_999, 8]
    params = {**SMALL, "pipeline": pipeline, "batch_size": 4, "targets": "parity,value"}
    vocab = data.vocabulary("en", SMALL["max_num"])
    seen, parity = [], []
    for features, labels in numbers_input_fn(numbers, params):
        seen += _numbers_of(features, vocab)
        parity += labels["parity"].numpy().tolist()
    assert seen == [number_words(n, "en") for n in numbers]
    assert parity == [n % 2 for n in numbers]
    batches = list(numbers_input_fn(numbers, params, ke.ModeKeys.PREDICT))
    assert [set(b) for b in batches] == [{"sequences", "lengths"}] * 2


@pytest.mark.parametrize("numbers, mode, message", [
    ([], ke.ModeKeys.EVAL, "non-empty"),
    ([3, -1], ke.ModeKeys.EVAL, "non-negative"),
    ([3], ke.ModeKeys.TRAIN, "EVAL or PREDICT"),
])
def test_numbers_input_fn_rejects_bad_requests(numbers, mode, message):
    with pytest.raises(ValueError, match=message):
        numbers_input_fn(numbers, SMALL, mode)
