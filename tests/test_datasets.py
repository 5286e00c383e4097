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
