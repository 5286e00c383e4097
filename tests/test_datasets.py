"""keras_estimator.datasets: what input_fn may return; labels None as tf.estimator allowed."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke

X = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")


def features_only():
    return tf.data.Dataset.from_tensor_slices({"x": X}).repeat().batch(8)


def test_a_model_fn_that_needs_no_labels_trains_and_evaluates_on_features_only(tmp_path):
    def autoencoder_fn(features, labels, mode):
        assert labels is None
        x = features["x"]
        loss = tf.reduce_mean(tf.square(keras.layers.Dense(3, name="dec")(keras.layers.Dense(2, name="enc")(x)) - x))
        if mode == ke.ModeKeys.TRAIN:
            return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.Adam(0.05)))
        return ke.EstimatorSpec(mode, loss=loss)

    est = ke.Estimator(autoencoder_fn, str(tmp_path))
    before = est.evaluate(features_only, steps=2)["loss"]
    est.train(features_only, steps=30)
    assert est.evaluate(features_only, steps=2)["loss"] < before


def test_a_model_fn_that_needs_labels_names_them_missing(tmp_path):
    def supervised_fn(features, labels, mode):
        loss = tf.reduce_mean(tf.square(keras.layers.Dense(1, name="out")(features["x"])[:, 0] - labels))
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.1)))

    with pytest.raises(ke.InputError, match=r"Labels are missing: mode 'train'") as info:
        ke.Estimator(supervised_fn, str(tmp_path / "m")).train(features_only, steps=1)
    assert info.value.__cause__ is not None  # model_fn's own error, for the traceback.
    assert not (tmp_path / "m").exists()


# -- TF1's `return dataset.make_one_shot_iterator().get_next()` --------------------------------
Y = (X[:, 0] > 0).astype("int64")


def _v1_dataset():
    return tf.compat.v1.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(8)


@pytest.mark.parametrize("input_fn", [
    pytest.param(lambda: _v1_dataset().make_one_shot_iterator().get_next(), id="method"),
    pytest.param(lambda: tf.compat.v1.data.make_one_shot_iterator(
        tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(8)).get_next(), id="function"),
    pytest.param(lambda: (lambda f, l: ({"renamed": f["x"]}, l))(
        *_v1_dataset().make_one_shot_iterator().get_next()), id="regrouped"),
])
def test_an_input_fn_returning_get_next_stands_for_its_dataset(input_fn):
    """A TF1 graph re-ran get_next every step: the tensors stand for every batch."""
    from keras_estimator.datasets import call_input_fn

    batches = list(call_input_fn(input_fn, ke.ModeKeys.EVAL, {}, None))
    assert len(batches) == 4  # All 32 examples, not the first batch for ever.
    features, labels = batches[-1]
    np.testing.assert_array_equal(next(iter(features.values())).numpy(), X[24:])
    np.testing.assert_array_equal(labels.numpy(), Y[24:])


def test_tensors_computed_from_get_next_are_still_refused():
    from keras_estimator.datasets import call_input_fn

    def doubled():
        features, labels = _v1_dataset().make_one_shot_iterator().get_next()
        return {"x": features["x"] * 2}, labels

    with pytest.raises(ke.InputError, match="must return a tf.data.Dataset .*got tuple"):
        call_input_fn(doubled, ke.ModeKeys.TRAIN, {}, None)
    # Outside input_fn, TensorFlow's iterators are TensorFlow's own again.
    iterator = _v1_dataset().make_one_shot_iterator()
    assert "recording" not in getattr(iterator.get_next, "__name__", "")
