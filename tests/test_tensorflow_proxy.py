"""keras_estimator.tensorflow: TensorFlow with tf.estimator's names back, TensorFlow untouched."""

import pytest
import tensorflow

import keras_estimator as ke
import keras_estimator.tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf1


def test_estimator_names_are_keras_estimators():
    assert tf.estimator.Estimator is ke.Estimator
    assert tf.estimator.ModeKeys.TRAIN == "train"
    assert tf.compat.v1.estimator.EstimatorSpec is ke.EstimatorSpec
    assert tf1.estimator.RunConfig is ke.RunConfig
    assert tf.compat.v2.estimator.train_and_evaluate is ke.train_and_evaluate


def test_every_other_name_is_tensorflows_own():
    assert tf.constant is tensorflow.constant
    # tf.keras is Keras 3 (plus tf.keras.estimator and tf.keras.layers.DenseFeatures).
    assert tf.keras.layers.Dense is tensorflow.keras.layers.Dense
    assert "Dense" in dir(tf.keras.layers) and "DenseFeatures" in dir(tf.keras.layers)
    assert tf.compat.v1.placeholder is tensorflow.compat.v1.placeholder
    assert tf1.train.AdamOptimizer is tensorflow.compat.v1.train.AdamOptimizer
    assert tf.compat.as_bytes is tensorflow.compat.as_bytes
    assert "estimator" in dir(tf) and "constant" in dir(tf) and "estimator" in dir(tf1)


def test_tensorflow_itself_is_not_changed():
    assert not hasattr(tensorflow, "estimator")
    assert not hasattr(tensorflow.compat.v1, "estimator")


def test_tf1_train_hooks_are_the_estimators():
    assert tf.compat.v1.train.LoggingTensorHook is ke.LoggingTensorHook
    assert tf1.train.SessionRunHook is ke.SessionRunHook
    assert tf.estimator.StopAtStepHook is tf1.train.StopAtStepHook is ke.StopAtStepHook
    assert tf1.train.AdamOptimizer is tensorflow.compat.v1.train.AdamOptimizer
    assert "LoggingTensorHook" in dir(tf1.train) and "AdamOptimizer" in dir(tf1.train)


def test_tf_keras_is_keras_3_with_model_to_estimator_back():
    assert tf.keras.layers.Dense is tensorflow.keras.layers.Dense
    assert tf.keras.estimator.model_to_estimator is ke.model_to_estimator
    assert tf1.keras.estimator.model_to_estimator is ke.model_to_estimator


def test_tf1_distribute_strategies_are_accepted():
    config = ke.RunConfig(train_distribute=tf.compat.v1.distribute.OneDeviceStrategy("/cpu:0"))
    assert config.train_distribute is not None
    assert ke.Estimator.export_savedmodel is ke.Estimator.export_saved_model


def test_keras_2_legacy_optimizers_are_compat_v1_rules_with_keras_2_arguments(tmp_path):
    """tf.keras.optimizers.legacy (gone from Keras 3), which tf.estimator 2.11-2.15's premade
    estimators required: the compat.v1 optimizer with the same rule, Keras 2's arguments."""
    import numpy as np

    legacy = tf.keras.optimizers.legacy
    assert tf.keras.optimizers.Adam is tensorflow.keras.optimizers.Adam  # The rest is Keras 3's.
    adam = legacy.Adam(learning_rate=0.01, beta_1=0.8)
    assert isinstance(adam, tensorflow.compat.v1.train.AdamOptimizer) and adam._beta1 == 0.8
    with pytest.raises(ValueError, match=r"\['clipnorm'\] are not supported"):
        legacy.SGD(0.1, clipnorm=1.0)
    x = np.linspace(-1, 1, 64, dtype="float32")
    columns = [tf.feature_column.numeric_column("x")]
    est = tf.estimator.LinearRegressor(columns, str(tmp_path), optimizer=lambda: legacy.Ftrl(
        learning_rate=tf.compat.v1.train.exponential_decay(0.5, tf.compat.v1.train.get_global_step(), 100, 0.9)))
    data = lambda: tf.data.Dataset.from_tensor_slices(({"x": x}, 3 * x)).batch(16)  # noqa: E731
    est.train(lambda: data().repeat(), steps=200)
    assert est.evaluate(data)["average_loss"] < 0.05
