"""keras_estimator.export: serving input receivers and export outputs (the tf.estimator names)."""

import pytest
import tensorflow as tf

from keras_estimator import export


def _in_graph(fn):
    """Receivers create placeholders: call them while a graph is built, as export does."""
    with tf.Graph().as_default():
        return fn()


def test_raw_receiver_makes_one_named_placeholder_per_feature():
    receiver_fn = export.build_raw_serving_input_receiver_fn(
        {"sequences": tf.TensorSpec([None, None], tf.int32), "lengths": tf.TensorSpec([7], tf.int32)},
        default_batch_size=3,
    )
    receiver = _in_graph(receiver_fn)
    assert sorted(receiver.receiver_tensors) == ["lengths", "sequences"]
    assert receiver.features["sequences"] is receiver.receiver_tensors["sequences"]
    assert receiver.features["sequences"].shape.as_list() == [3, None]
    assert receiver.features["lengths"].shape.as_list() == [3]  # Batch dimension replaced.
    assert receiver.features["lengths"].dtype == tf.int32


def test_raw_receiver_of_a_scalar_example_takes_a_batch_of_scalars():
    """TensorFlow's guides pass one dummy example, `{"input": tf.constant(3.)}`; tf.estimator
    made it a [batch] input."""
    receiver = _in_graph(export.build_raw_serving_input_receiver_fn({"input": tf.constant(3.0)}))
    assert receiver.features["input"].shape.as_list() == [None]


def test_parsing_receiver_takes_examples():
    receiver = _in_graph(export.build_parsing_serving_input_receiver_fn(
        {"x": tf.io.FixedLenFeature([2], tf.float32), "tags": tf.io.VarLenFeature(tf.string)}))
    assert list(receiver.receiver_tensors) == ["examples"]
    assert receiver.receiver_tensors["examples"].dtype == tf.string
    assert receiver.features["x"].shape.as_list() == [None, 2]
    assert isinstance(receiver.features["tags"], tf.SparseTensor)


def test_single_tensors_are_named_like_tf_estimator():
    def fn():
        x = tf.compat.v1.placeholder(tf.float32, [None, 2])
        return export.ServingInputReceiver(x, x), export.TensorServingInputReceiver(x, {"x": x})
    plain, tensor = _in_graph(fn)
    assert list(plain.features) == ["feature"] and list(plain.receiver_tensors) == ["input"]
    assert tf.is_tensor(tensor.features)


@pytest.mark.parametrize("make, match", [
    (lambda: export.build_raw_serving_input_receiver_fn({}), "non-empty dict"),
    (lambda: export.build_raw_serving_input_receiver_fn([tf.TensorSpec([None])]), "non-empty dict"),
    (lambda: export.build_raw_serving_input_receiver_fn({"x": [1, 2]}), "must be a tf.TensorSpec"),
    (lambda: export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec(None, tf.float32)}), "known rank"),
    (lambda: export.build_raw_serving_input_receiver_fn({1: tf.TensorSpec([None])}), "non-empty strings"),
    (lambda: export.build_parsing_serving_input_receiver_fn({}), "non-empty feature_spec"),
    (lambda: export.build_parsing_serving_input_receiver_fn({"x": tf.float32}), "must be a tf.io feature"),
    (lambda: export.ServingInputReceiver({}, {"x": tf.constant(1)}), "features must not be empty"),
    (lambda: export.ServingInputReceiver({"x": [1.0]}, {"x": tf.constant(1)}), r"features\['x'\] must be a tensor"),
    (lambda: export.ServingInputReceiver({"x": tf.constant(1)}, {2: tf.constant(1)}), "non-empty strings"),
    (lambda: export.TensorServingInputReceiver({"x": tf.constant(1)}, tf.constant(1)), "single tensor"),
    (lambda: export.PredictOutput({}), "at least one output"),
    (lambda: export.PredictOutput({"x": 1.0}), "must be a tensor"),
    (lambda: export.PredictOutput({3: tf.constant(1.0)}), "non-empty strings"),
    (lambda: export.ClassificationOutput(), "scores, classes, or both"),
    (lambda: export.ClassificationOutput(scores=tf.constant([1])), "floating point"),
    (lambda: export.ClassificationOutput(classes=tf.constant([1])), "must be strings"),
    (lambda: export.RegressionOutput(tf.constant([1])), "floating point"),
    (lambda: export.RegressionOutput([1.0]), "must be a tensor"),
])
def test_bad_arguments_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_export_outputs_name_their_tensors():
    scores, classes = tf.constant([[0.2, 0.8]]), tf.constant([["a", "b"]])
    assert list(export.PredictOutput(scores).as_signature_outputs()) == ["output"]
    assert sorted(export.ClassificationOutput(scores, classes).as_signature_outputs()) == ["classes", "scores"]
    assert list(export.ClassificationOutput(classes=classes).as_signature_outputs()) == ["classes"]
    assert list(export.RegressionOutput(scores[:, 0]).as_signature_outputs()) == ["outputs"]
