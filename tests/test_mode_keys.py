"""ModeKeys: the three mode strings (same values as tf.estimator.ModeKeys) and validate()."""

import pytest

from keras_estimator import ModeKeys


def test_values_match_tf_estimator():
    assert ModeKeys.TRAIN == "train"
    assert ModeKeys.EVAL == "eval"
    assert ModeKeys.PREDICT == "infer"


def test_all_lists_the_three_modes():
    assert set(ModeKeys.ALL) == {"train", "eval", "infer"}


@pytest.mark.parametrize("mode", ["train", "eval", "infer"])
def test_validate_returns_valid_mode(mode):
    assert ModeKeys.validate(mode) == mode


@pytest.mark.parametrize("mode", ["predict", "TRAIN", "", None, 0, "training"])
def test_validate_rejects_other_values(mode):
    with pytest.raises(ValueError, match="Unknown mode"):
        ModeKeys.validate(mode)
