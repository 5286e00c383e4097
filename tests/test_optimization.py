"""keras_estimator.minimize: the TRAIN train_op for Keras 3 optimizers."""

import keras
import numpy as np
import tensorflow as tf

import keras_estimator as ke


def test_two_optimizers_each_update_their_part_in_one_step(tmp_path):
    """Wide & deep: one minimize per part, each with its own optimizer, in the same step; the
    second gets the same gradients as if it were alone (SGD: the update is lr x gradient)."""
    x = np.array([[1.0], [2.0]], np.float32)
    y = np.array([[1.0], [0.0]], np.float32)

    def model_fn(features, labels, mode):
        wide = keras.layers.Dense(1, kernel_initializer="ones", name="wide")
        deep = keras.layers.Dense(1, kernel_initializer="ones", name="deep")
        out = wide(features["x"]) + deep(features["x"])
        loss = tf.reduce_mean(tf.square(out - labels))
        train_op = tf.group(ke.minimize(loss, keras.optimizers.SGD(0.1), wide.trainable_variables),
                            ke.minimize(loss, keras.optimizers.SGD(0.01), deep.trainable_variables))
        return ke.EstimatorSpec(mode, loss=loss, train_op=train_op)

    est = ke.Estimator(model_fn, str(tmp_path))
    est.train(lambda: tf.data.Dataset.from_tensor_slices(({"x": x}, y)).batch(2), steps=1)
    # out = 2x (both kernels 1, biases 0): residuals (1, 4); d loss / d kernel = mean(2 * r * x) = 9.
    np.testing.assert_allclose(est.get_variable_value("wide/kernel"), [[1.0 - 0.1 * 9.0]], rtol=1e-5)
    np.testing.assert_allclose(est.get_variable_value("deep/kernel"), [[1.0 - 0.01 * 9.0]], rtol=1e-5)
    np.testing.assert_allclose(est.get_variable_value("deep/bias"), [-0.01 * 5.0], rtol=1e-5)  # mean(2r) = 5.
