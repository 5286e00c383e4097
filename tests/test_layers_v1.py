"""tf.compat.v1.layers in model_fn (keras_estimator.layers_v1, issue 18 item 2): TF1 model_fns
run with the import swapped; variables named by scope, created once, reused across modes,
traces and Estimator objects; `training=` as in TF1."""

import os
import sys

import keras
import numpy as np
import pytest
import tensorflow

import keras_estimator as ke
import keras_estimator.tensorflow as tf
import keras_estimator.tensorflow.compat.v1 as tf1
from keras_estimator import _compat, layers_v1


def images_input_fn(n=64, batch=16, repeat=True, labels=True, seed=0):
    """({"x": float32 [B, 4, 4, 1]}, float32 [B]): is the top half brighter than the bottom?"""
    def fn():
        x = np.random.default_rng(seed).normal(size=(n, 4, 4, 1)).astype(np.float32)
        y = (x[:, :2].sum(axis=(1, 2, 3)) > x[:, 2:].sum(axis=(1, 2, 3))).astype(np.float32)
        ds = tensorflow.data.Dataset.from_tensor_slices(({"x": x}, y) if labels else {"x": x})
        return (ds.repeat() if repeat else ds).batch(batch)
    return fn


def cnn_model_fn(features, labels, mode, params):
    """A TF1 tutorial model_fn, unchanged but for `import keras_estimator.tensorflow as tf`
    and minimize (compat.v1 optimizers are another item)."""
    training = mode == ke.ModeKeys.TRAIN
    h = tf.compat.v1.layers.conv2d(features["x"], 4, 3, padding="same", activation=tf.nn.relu)
    h = tf.compat.v1.layers.max_pooling2d(h, pool_size=2, strides=2)
    h = tf.compat.v1.layers.flatten(h)
    h = tf.compat.v1.layers.dense(h, 8, activation=tf.nn.relu)
    h = tf.compat.v1.layers.dropout(h, rate=params.get("dropout", 0.5), training=training)
    logits = tf.compat.v1.layers.dense(h, 1)[:, 0]
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"logits": logits})
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
    train_op = ke.minimize(loss, keras.optimizers.Adam(params.get("lr", 0.02))) if training else None
    return ke.EstimatorSpec(mode, loss=loss, train_op=train_op)


def expected_logits(estimator, x):
    """cnn_model_fn's logits with dropout off, computed from the checkpointed variables."""
    v = estimator.get_variable_value
    h = tensorflow.nn.relu(tensorflow.nn.conv2d(x, v("conv2d/kernel"), 1, "SAME") + v("conv2d/bias"))
    h = tensorflow.reshape(tensorflow.nn.max_pool2d(h, 2, 2, "VALID"), [len(x), -1]).numpy()
    h = np.maximum(h @ v("dense/kernel") + v("dense/bias"), 0)
    return (h @ v("dense_1/kernel") + v("dense_1/bias"))[:, 0]


class RecordLosses(ke.Hook):
    """The loss of every training step."""

    def __init__(self):
        self.losses = []

    def next_step(self, global_step):
        return global_step + 1

    def after_run(self, context):
        self.losses.append(float(context.loss))


def test_the_proxy_answers_tf_compat_v1_layers_with_layers_v1():
    assert tf.compat.v1.layers is layers_v1
    assert tf1.layers.dense is layers_v1.dense and tf1.layers.Conv2D is layers_v1.Conv2D
    assert "layers" in dir(tf.compat.v1)
    tf.compat.v1.layers.dense(tensorflow.ones([1, 2]), 1)
    assert "tf_keras" not in sys.modules and "TF_USE_LEGACY_KERAS" not in os.environ  # Keras 3 only.
    assert tensorflow.keras.layers.Dense is keras.layers.Dense


def test_a_tf1_cnn_trains_evaluates_predicts_and_resumes_by_scope_names(tmp_path):
    est = ke.Estimator(cnn_model_fn, str(tmp_path), params={"dropout": 0.5})
    untrained = est.evaluate(images_input_fn(repeat=False))["loss"]
    est.train(images_input_fn(), steps=150)
    names = [n for n in est.get_variable_names() if not n.startswith("adam/")]
    assert names == ["conv2d/bias", "conv2d/kernel", "dense/bias", "dense/kernel",
                     "dense_1/bias", "dense_1/kernel", "global_step"]
    assert est.get_variable_value("conv2d/kernel").shape == (3, 3, 1, 4)
    trained = est.evaluate(images_input_fn(repeat=False))["loss"]
    assert trained < 0.8 * untrained

    predict = lambda e: np.array([p["logits"] for p in e.predict(images_input_fn(repeat=False, labels=False))])
    first, again = predict(est), predict(est)
    np.testing.assert_array_equal(first, again)  # Dropout off in PREDICT.
    features = next(iter(images_input_fn(n=64, batch=64, repeat=False, labels=False)()))["x"]
    np.testing.assert_allclose(first, expected_logits(est, features), rtol=1e-4, atol=1e-5)

    resumed = ke.Estimator(cnn_model_fn, str(tmp_path), params={"dropout": 0.5})
    assert resumed.evaluate(images_input_fn(repeat=False))["loss"] == pytest.approx(trained)
    resumed.train(images_input_fn(), steps=10)
    assert resumed.get_variable_value("global_step") == 160


def test_dropout_is_active_in_train_only(tmp_path):
    batch = lambda: images_input_fn(n=16, batch=16)()
    est = ke.Estimator(cnn_model_fn, str(tmp_path), params={"dropout": 0.5, "lr": 0.0})
    hook = RecordLosses()
    est.train(batch, steps=6, hooks=[hook])
    assert len(hook.losses) == 6 and len(set(hook.losses)) > 1  # Same batch, same weights.
    evals = {est.evaluate(batch, steps=1)["loss"] for _ in range(2)}
    assert len(evals) == 1 and min(hook.losses) != evals.pop()


def bn_model_fn(features, labels, mode):
    """batch_normalization with the TF1 UPDATE_OPS idiom (compat.v1 names via tf1)."""
    training = mode == ke.ModeKeys.TRAIN
    normalized = tf1.layers.batch_normalization(features["x"], momentum=0.5, training=training)
    y = tf1.layers.dense(normalized, 1, name="out")[:, 0]
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"normalized": normalized})
    loss = tf.reduce_mean(tf.square(y - labels))
    update_ops = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
    assert bool(update_ops) == (training and tf.inside_function())  # None in an eager build.
    with tf.control_dependencies(update_ops):
        train_op = ke.minimize(loss, keras.optimizers.SGD(0.01)) if training else None
    return ke.EstimatorSpec(mode, loss=loss, train_op=train_op)


def shifted_input_fn(labels=True):
    def fn():
        x = (np.random.default_rng(1).normal(size=(64, 3)) * [1.0, 2.0, 0.5] + [5.0, -3.0, 1.0]).astype(np.float32)
        ds = tensorflow.data.Dataset.from_tensor_slices(({"x": x}, x.sum(axis=1)) if labels else {"x": x})
        return ds.batch(64)
    return fn


def test_batch_normalization_updates_moving_averages_in_train_and_uses_them_after(tmp_path):
    est = ke.Estimator(bn_model_fn, str(tmp_path))
    est.train(lambda: shifted_input_fn()().repeat(), steps=20)
    assert {n for n in est.get_variable_names() if n.startswith("batch_normalization/")} == {
        f"batch_normalization/{v}" for v in ("beta", "gamma", "moving_mean", "moving_variance")}
    mean = est.get_variable_value("batch_normalization/moving_mean")
    variance = est.get_variable_value("batch_normalization/moving_variance")
    np.testing.assert_allclose(mean, [5.0, -3.0, 1.0], atol=0.6)  # From 0, momentum 0.5.
    assert variance[1] > 2 * variance[2]
    est.evaluate(shifted_input_fn())
    np.testing.assert_array_equal(est.get_variable_value("batch_normalization/moving_mean"), mean)
    x = next(iter(shifted_input_fn(labels=False)()))["x"].numpy()
    got = np.array([p["normalized"] for p in est.predict(shifted_input_fn(labels=False))])
    gamma, beta = (est.get_variable_value(f"batch_normalization/{v}") for v in ("gamma", "beta"))
    np.testing.assert_allclose(got, (x - mean) / np.sqrt(variance + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-4)


def scopes_model_fn(features, labels, mode, params):
    """Variable scopes, reuse and layer objects as TF1 programs shared towers."""
    if params.get("fresh"):  # What the runtime does when it opens a TF1 store per call.
        with _compat.fresh_tf1_variables():
            return scopes_body(features, labels, mode, params)
    return scopes_body(features, labels, mode, params)


def scopes_body(features, labels, mode, params):
    x = features["x"]
    with tf.compat.v1.variable_scope("tower"):
        a = tf.compat.v1.layers.dense(x, 2)
    with tf.compat.v1.variable_scope("tower", reuse=True):
        b = tf.compat.v1.layers.dense(x, 2)
    shared = tf.compat.v1.layers.Dense(2, name="shared")
    c = shared(x) + shared(x)
    d = tf.compat.v1.layers.dense(x, 2, name="auto", reuse=tf.compat.v1.AUTO_REUSE)
    d += tf.compat.v1.layers.dense(x, 2, name="auto", reuse=tf.compat.v1.AUTO_REUSE)
    conv = tf.compat.v1.layers.conv1d(tf.expand_dims(x, -1), 2, 2)  # [B, 3, 2]
    pooled = tf.compat.v1.layers.max_pooling1d(conv, 3, 1)
    y = tf.reduce_sum(a + b + c + d, axis=1) + tf.reduce_sum(pooled, axis=[1, 2])
    if params.get("fresh"):
        kernel = tf.compat.v1.get_variable("w", [4, 1])  # Plain TF1 variables, beside the layers.
        with tf.compat.v1.variable_scope("shared", reuse=True):  # One store for both.
            assert tf.compat.v1.get_variable("kernel") is shared.kernel
        y += tf.matmul(x, kernel)[:, 0]
    if mode == ke.ModeKeys.PREDICT:
        return ke.EstimatorSpec(mode, predictions={"y": y})
    loss = tf.reduce_mean(tf.square(y - labels))
    train_op = ke.minimize(loss, keras.optimizers.SGD(0.01)) if mode == ke.ModeKeys.TRAIN else None
    return ke.EstimatorSpec(mode, loss=loss, train_op=train_op)


def vector_input_fn(labels=True):
    def fn():
        x = np.random.default_rng(2).normal(size=(32, 4)).astype(np.float32)
        return tensorflow.data.Dataset.from_tensor_slices(({"x": x}, x[:, 0]) if labels else {"x": x}).batch(8)
    return fn


@pytest.mark.parametrize("fresh", [False, True], ids=["layers-own-store", "runtime-store"])
def test_variable_scopes_and_reuse_share_variables_as_in_tf1(tmp_path, fresh):
    est = ke.Estimator(scopes_model_fn, str(tmp_path), params={"fresh": fresh})
    est.train(lambda: vector_input_fn()().repeat(), steps=3)
    est.evaluate(vector_input_fn())
    list(est.predict(vector_input_fn(labels=False)))
    names = [n for n in est.get_variable_names() if not n.startswith("sgd/")]
    expected = ["auto/bias", "auto/kernel", "conv1d/bias", "conv1d/kernel", "global_step", "shared/bias",
                "shared/kernel", "tower/dense/bias", "tower/dense/kernel"] + (["w"] if fresh else [])
    assert names == sorted(expected)


def test_reusing_a_name_without_reuse_fails_as_in_tf1(tmp_path):
    def model_fn(features, labels, mode):
        # In a fresh TF1 store (what the runtime should open per step): TensorFlow's own root
        # scope has reuse=AUTO_REUSE once anything used variable scopes eagerly in the process.
        with _compat.fresh_tf1_variables():
            tf.compat.v1.layers.dense(features["x"], 1, name="out")
            y = tf.compat.v1.layers.dense(features["x"], 1, name="out")[:, 0]
        return ke.EstimatorSpec(mode, predictions={"y": y})

    with pytest.raises(ValueError, match="out/kernel already exists"):
        list(ke.Estimator(model_fn, str(tmp_path)).predict(vector_input_fn(labels=False)))


def test_layers_outside_model_fn_compute_what_tf1_computed():
    x = tensorflow.reshape(tensorflow.range(32, dtype=tensorflow.float32), [2, 4, 4, 1])
    assert layers_v1.average_pooling2d(x, 2, 2).numpy()[0, :, :, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert layers_v1.max_pooling2d(x, 2, 2, padding="same").shape == (2, 2, 2, 1)
    assert layers_v1.flatten(x).shape == (2, 16)
    assert layers_v1.conv2d(x, 3, 2, strides=2).shape == (2, 2, 2, 3)
    assert layers_v1.conv1d(tensorflow.ones([2, 5, 3]), 4, 3, padding="same").shape == (2, 5, 4)
    assert layers_v1.max_pooling1d(tensorflow.ones([2, 6, 3]), 2, 2).shape == (2, 3, 3)
    assert layers_v1.dense(tensorflow.ones([2, 3, 5]), 7).shape == (2, 3, 7)
    ones = tensorflow.ones([100, 100])
    np.testing.assert_array_equal(layers_v1.dropout(ones, 0.5), ones)  # training=False by default.
    dropped = layers_v1.dropout(ones, 0.5, training=True).numpy()
    assert 0.3 < (dropped == 0).mean() < 0.7 and set(np.unique(dropped)) == {0.0, 2.0}
    assert (layers_v1.dropout(ones, 0.5, training=tensorflow.constant(False)).numpy() == 1).all()
    with pytest.raises(NotImplementedError, match="renorm"):
        layers_v1.batch_normalization(ones, renorm=True)
