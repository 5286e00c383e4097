"""classifier_parse_example_spec / regressor_parse_example_spec: feature columns + label + weight."""

import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke

COLUMNS = [
    tf.feature_column.numeric_column("b"),
    tf.feature_column.categorical_column_with_vocabulary_list("a", ["x", "y"]),
]


def test_classifier_spec_adds_the_label_and_weight():
    spec = ke.classifier_parse_example_spec(COLUMNS, label_key="label", weight_column="w")
    assert spec == {
        "a": tf.io.VarLenFeature(tf.string),
        "b": tf.io.FixedLenFeature((1,), tf.float32),
        "label": tf.io.FixedLenFeature((1,), tf.int64),
        "w": tf.io.FixedLenFeature((1,), tf.float32),
    }
    spec = ke.classifier_parse_example_spec(COLUMNS, "label", label_dtype=tf.string, label_default="no",
                                            weight_column=tf.feature_column.numeric_column("w", shape=(2,)))
    assert spec["label"] == tf.io.FixedLenFeature((1,), tf.string, "no")
    assert spec["w"] == tf.io.FixedLenFeature((2,), tf.float32)


def test_regressor_spec_parses_examples():
    spec = ke.regressor_parse_example_spec(COLUMNS, "y", label_dimension=2)
    assert spec["y"] == tf.io.FixedLenFeature((2,), tf.float32)
    example = tf.train.Example(features=tf.train.Features(feature={
        "a": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"])),
        "b": tf.train.Feature(float_list=tf.train.FloatList(value=[1.5])),
        "y": tf.train.Feature(float_list=tf.train.FloatList(value=[3.0, 4.0])),
    }))
    parsed = tf.io.parse_example([example.SerializeToString()], spec)
    np.testing.assert_array_equal(parsed["y"].numpy(), [[3.0, 4.0]])
    np.testing.assert_array_equal(parsed["b"].numpy(), [[1.5]])


def test_tf1_feature_columns_are_accepted():
    spec = ke.classifier_parse_example_spec([tf.compat.v1.feature_column.numeric_column("b")], "label")
    assert sorted(spec) == ["b", "label"]


@pytest.mark.parametrize("label_key, weight_column, message", [
    ("b", None, "label should not be used as feature"),
    ("label", "b", "weight_column should not be used as feature"),
    ("label", 3, "weight_column should be an instance of tf.feature_column.numeric_column"),
    (None, None, "label_key must be given"),
])
def test_bad_arguments_raise(label_key, weight_column, message):
    with pytest.raises(ValueError, match=message):
        ke.classifier_parse_example_spec(COLUMNS, label_key, weight_column=weight_column)


def test_vocab_info_is_tensorflows():
    info = ke.VocabInfo(new_vocab="new.txt", new_vocab_size=3, num_oov_buckets=1, old_vocab="old.txt")
    assert isinstance(info, tf.compat.v1.train.VocabInfo)
    assert (info.old_vocab_size, info.backup_initializer, info.axis) == (-1, None, 0)
