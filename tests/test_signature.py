"""keras_estimator.signature: recorded on a first train, written with the first checkpoint, checked after."""

import json
import os

import pytest
import tensorflow as tf

from keras_estimator.errors import InputError
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.signature import SIGNATURE_FILE, InputSignature, signature_of

FEATURES = {"x": tf.TensorSpec([None, 3], tf.float32), "ids": tf.TensorSpec([None], tf.int64)}
LABELS = tf.TensorSpec([None], tf.int32)


def test_a_first_train_records_but_writes_only_when_asked(tmp_path):
    sig = InputSignature(str(tmp_path))
    sig.check_or_record(ModeKeys.TRAIN, FEATURES, LABELS)
    assert sig.expected is None and not (tmp_path / SIGNATURE_FILE).exists()
    sig.write_pending()
    written = json.loads((tmp_path / SIGNATURE_FILE).read_text())
    assert written == signature_of(FEATURES, LABELS)
    assert written["features"]["x"] == {"dtype": "float32", "rank": 2}


def test_eval_before_any_training_records_nothing(tmp_path):
    sig = InputSignature(str(tmp_path))
    sig.check_or_record(ModeKeys.EVAL, FEATURES, LABELS)
    sig.write_pending()
    assert not os.listdir(tmp_path)


def _trained(tmp_path):
    first = InputSignature(str(tmp_path))
    first.check_or_record(ModeKeys.TRAIN, FEATURES, LABELS)
    first.write_pending()
    return InputSignature(str(tmp_path))  # A new process reads it back.


@pytest.mark.parametrize("features, message", [
    ({"x": FEATURES["x"]}, r"features in mode 'eval' are missing key\(s\) \['ids'\]"),
    (dict(FEATURES, extra=FEATURES["ids"]), r"unexpected key\(s\) \['extra'\]"),
    (dict(FEATURES, x=tf.TensorSpec([None, 3], tf.int32)), r"features\['x'\] has dtype int32 in mode 'eval'"),
    (dict(FEATURES, ids=tf.TensorSpec([None], tf.string)), r"features\['ids'\] has dtype string in mode 'eval'"),
    (dict(FEATURES, ids=tf.TensorSpec([None, 1], tf.int64)), r"features\['ids'\] has rank 2 in mode 'eval'"),
])
def test_later_inputs_are_checked_by_key_dtype_and_rank(tmp_path, features, message):
    with pytest.raises(InputError, match=message):
        _trained(tmp_path).check_or_record(ModeKeys.EVAL, features, LABELS)


def test_a_receiver_is_named_in_the_message(tmp_path):
    with pytest.raises(InputError, match=r"serving_input_receiver_fn's features are missing key\(s\) \['ids'\]"):
        _trained(tmp_path).check_receiver({"x": FEATURES["x"]})


def test_a_receiver_may_add_one_dimension_but_no_other_rank_change(tmp_path):
    """A model trained on unbatched scalars serves a [batch] receiver (tf.estimator's guides do),
    and one trained on [batch] serves a parsing receiver's [batch, 1]; an input_fn may not add
    a dimension, and a receiver may not add two or drop one."""
    sig = InputSignature(str(tmp_path))
    sig.check_or_record(ModeKeys.TRAIN, {"input": tf.TensorSpec([], tf.float32)}, None)
    sig.write_pending()
    sig.check_receiver({"input": tf.TensorSpec([None], tf.float32)})
    with pytest.raises(InputError, match=r"features\['input'\] has rank 1 in mode 'infer'"):
        sig.check_or_record(ModeKeys.PREDICT, {"input": tf.TensorSpec([None], tf.float32)}, None)
    _trained(tmp_path / "other").check_receiver(dict(FEATURES, ids=tf.TensorSpec([None, 1], tf.int64)))
    with pytest.raises(InputError, match=r"serving_input_receiver_fn's features\['ids'\] has rank 3"):
        _trained(tmp_path / "third").check_receiver(dict(FEATURES, ids=tf.TensorSpec([None, 1, 1], tf.int64)))
    with pytest.raises(InputError, match=r"serving_input_receiver_fn's features\['ids'\] has rank 0"):
        _trained(tmp_path / "fourth").check_receiver(dict(FEATURES, ids=tf.TensorSpec([], tf.int64)))


@pytest.mark.parametrize("key, dtype", [("x", tf.float32), ("x", tf.float16), ("ids", tf.int32)])
def test_another_width_of_the_same_kind_is_accepted_with_a_warning(tmp_path, caplog, key, dtype):
    """Python lists give float32 and int32 where pandas and numpy gave float64 and int64 in
    training: tf.estimator took them, and so does the check, with a warning naming the key."""
    trained = InputSignature(str(tmp_path))
    trained.check_or_record(ModeKeys.TRAIN, dict(FEATURES, x=tf.TensorSpec([None, 3], tf.float64)), LABELS)
    trained.write_pending()
    spec = dict(FEATURES, x=tf.TensorSpec([None, 3], tf.float64))
    spec[key] = tf.TensorSpec(spec[key].shape, dtype)
    InputSignature(str(tmp_path)).check_or_record(ModeKeys.PREDICT, spec, None)
    assert f"features['{key}'] has dtype {dtype.name} in mode 'infer'" in caplog.text
    assert "accepted, as tf.estimator did" in caplog.text
