"""add_metrics: a new Estimator on the same model_dir whose evaluations report more metrics."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import estimator, input_fn, make_data

EVAL_INPUT = input_fn(n=64, batch=16, repeat=False, seed=3)


def test_adds_keras_metrics_to_evaluate_on_the_same_checkpoints(tmp_path):
    est = estimator(tmp_path, {"lr": 0.05, "dropout": 0.0}, save_checkpoints_steps=10)
    est.train(input_fn(), steps=10)
    seen = {}

    def metric_fn(labels, predictions, features, config):
        seen["config"], seen["predictions"] = config, predictions  # helpers' EVAL spec has none.
        positives = keras.metrics.Mean(name="positives")
        positives.update_state(tf.cast(labels, tf.float32))
        mean_x = keras.metrics.Mean()
        mean_x.update_state(features["x"][:, 0])
        accuracy = keras.metrics.Sum()  # Replaces the model_fn's "accuracy".
        accuracy.update_state(tf.ones_like(tf.cast(labels, tf.float32)))
        return {"positives": positives, "mean_x0": mean_x, "accuracy": accuracy}

    extended = ke.add_metrics(est, metric_fn)
    assert extended.model_dir == est.model_dir and extended.config == est.config
    assert extended.params == est.params
    result = extended.evaluate(EVAL_INPUT)
    x, y = make_data(64, seed=3)
    assert result["global_step"] == 10
    assert result["positives"] == pytest.approx(y.mean(), rel=1e-6)
    assert result["mean_x0"] == pytest.approx(x[:, 0].mean(), rel=1e-5)
    assert result["accuracy"] == 64  # metric_fn's metric wins a clash.
    assert result["examples"] == 64  # The model_fn's own metrics are kept.
    assert result["loss"] == pytest.approx(est.evaluate(EVAL_INPUT)["loss"], rel=1e-6)
    assert seen["config"].model_dir == est.model_dir and seen["predictions"] is None
    # Trains (model_fn gets its params) and predicts as the original.
    extended.train(input_fn(), steps=5)
    assert est.get_variable_value("global_step") == 15
    assert len(list(extended.predict(input_fn(n=4, repeat=False, labels=False)))) == 4


def test_tf_estimator_metric_tuples_pass_through(tmp_path):
    est = estimator(tmp_path, {"lr": 0.05})
    est.train(input_fn(), steps=2)

    def metric_fn(labels):
        return {"label_mean": tf.compat.v1.metrics.mean(labels)}

    result = ke.add_metrics(est, metric_fn).evaluate(EVAL_INPUT)
    assert result["label_mean"] == pytest.approx(make_data(64, seed=3)[1].mean(), rel=1e-6)


def test_bad_metric_fns_raise(tmp_path):
    est = estimator(tmp_path)
    with pytest.raises(ValueError, match=r"metric_fn .* has following not expected args: \['mode'\]"):
        ke.add_metrics(est, lambda labels, mode: {})
    with pytest.raises(ValueError, match="metric_fn must be callable"):
        ke.add_metrics(est, {"auc": None})
    with pytest.raises(ValueError, match="must be a keras_estimator.Estimator"):
        ke.add_metrics(object(), lambda labels: {})
    est.train(input_fn(), steps=1)
    with pytest.raises(ValueError, match="metric_fn must return a dict"):
        ke.add_metrics(est, lambda labels: [labels]).evaluate(EVAL_INPUT)
    np.testing.assert_equal(est.get_variable_value("global_step"), 1)


def test_metric_fn_gets_the_eval_predictions_and_model_fn_its_params(tmp_path):
    def model_fn(features, labels, mode, params):
        y = keras.layers.Dense(1, name="out", kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(params["bias"]))(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(y - labels))
        train_op = ke.minimize(loss, keras.optimizers.SGD(0.0)) if mode == ke.ModeKeys.TRAIN else None
        return ke.EstimatorSpec(mode, predictions={"y": y}, loss=loss, train_op=train_op)

    est = ke.Estimator(model_fn, tmp_path, params={"bias": 0.25})

    def metric_fn(predictions):
        mean = keras.metrics.Mean()
        mean.update_state(predictions["y"])
        return {"mean_prediction": mean}

    extended = ke.add_metrics(est, metric_fn)
    extended.train(input_fn(), steps=1)
    assert extended.evaluate(EVAL_INPUT)["mean_prediction"] == pytest.approx(0.25)
