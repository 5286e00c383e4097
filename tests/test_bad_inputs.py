"""Bad input gets a clear error naming the problem, raised before model_dir changes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import dense_model_fn, dir_state, estimator, input_fn


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model_dir trained on {"x": float32 [B, 4]} features and float32 labels."""
    model_dir = tmp_path_factory.mktemp("trained")
    estimator(model_dir).train(input_fn(), steps=3)
    return model_dir


def _batches(features, labels=None, n=8):
    def fn():
        element = (features, labels) if labels is not None else features
        return tf.data.Dataset.from_tensor_slices(element).batch(n)
    return fn


X = np.zeros((8, 4), np.float32)
Y = np.zeros((8,), np.float32)


@pytest.mark.parametrize("method, fn, error, message", [
    ("train", _batches({"x": X, "extra": X}, Y), ke.InputError, r"unexpected key\(s\) \['extra'\]"),
    ("evaluate", _batches({"y": X}, Y), ke.InputError, r"missing key\(s\) \['x'\]"),
    ("train", _batches({"x": X.astype(np.int32)}, Y), ke.InputError, r"features\['x'\] has dtype int32 .* float32"),
    ("evaluate", _batches({"x": X[:, :, None]}, Y), ke.InputError, r"features\['x'\] has rank 3 .* rank 2"),
    ("predict", _batches({"x": X.astype(np.float64)}), ke.InputError, r"dtype float64"),
    ("train", _batches({"x": X}), ke.InputError, r"Labels are missing: mode 'train'"),
    ("evaluate", _batches({"x": X}), ke.InputError, r"Labels are missing: mode 'eval'"),
    ("train", _batches(X, Y), ke.InputError, r"single tensor"),
    ("train", lambda: ({"x": tf.constant(X)}, tf.constant(Y)), ke.InputError, r"must return a tf.data.Dataset.*tuple"),
    ("evaluate", lambda: None, ke.InputError, r"must return a tf.data.Dataset.*NoneType"),
    ("train", lambda: tf.data.Dataset.from_tensor_slices(({"x": X}, Y, Y)).batch(2), ke.InputError, r"tuples of length 3"),
    ("train", _batches({"x": X}, Y).__call__().take(0).__class__ and (lambda: tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(2).take(0)), ke.InputError, r"empty dataset"),
    ("evaluate", lambda: tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(2).take(0), ke.InputError, r"empty dataset"),
    ("predict", lambda: tf.data.Dataset.from_tensor_slices({"x": X}).batch(2).take(0), ke.InputError, r"empty dataset"),
    ("train", lambda bogus: None, ValueError, r"not expected args: \['bogus'\]"),
])
def test_bad_input_fn_results_fail_clearly_and_write_nothing(trained, method, fn, error, message):
    before = dir_state(trained)
    est = estimator(trained)
    with pytest.raises(error, match=message):
        if method == "train":
            est.train(fn, steps=2)
        elif method == "evaluate":
            est.evaluate(fn)
        else:
            list(est.predict(fn))
    assert dir_state(trained) == before


def test_model_fn_reading_a_missing_feature_names_the_key(tmp_path):
    def model_fn(features, labels, mode):
        return dense_model_fn({"x": features["lengths"]}, labels, mode, {})

    est = ke.Estimator(model_fn, str(tmp_path))
    with pytest.raises(ke.MissingFeatureError, match=r"features\['lengths'\].*only \['x'\]") as info:
        est.train(input_fn(), steps=1)
    assert isinstance(info.value, KeyError)
    assert dir_state(tmp_path) == {}


def test_model_fn_type_errors_name_the_features(tmp_path):
    def model_fn(features, labels, mode):
        return dense_model_fn({"x": tf.strings.as_string(features["x"])}, labels, mode, {})

    with pytest.raises(ValueError, match=r"model_fn failed in mode 'train' with features \{'x': float32\[None, 4\]\}"):
        ke.Estimator(model_fn, str(tmp_path)).train(input_fn(), steps=1)
    assert dir_state(tmp_path) == {}


@pytest.mark.parametrize("returned, message", [
    (lambda mode, loss: {"loss": loss}, "model_fn should return an EstimatorSpec, got dict"),
    (lambda mode, loss: ke.EstimatorSpec(mode, loss=loss), "mode 'train' is missing train_op"),
    (lambda mode, loss: ke.EstimatorSpec(mode, train_op=tf.no_op()), "mode 'train' is missing loss"),
    (lambda mode, loss: ke.EstimatorSpec(mode, loss=tf.stack([loss, loss]), train_op=tf.no_op()), "Loss must be scalar"),
    (lambda mode, loss: ke.EstimatorSpec(ke.ModeKeys.EVAL, loss=loss), "called in mode 'train' but returned an EstimatorSpec for mode 'eval'"),
])
def test_model_fn_returning_a_bad_spec_fails_clearly(tmp_path, returned, message):
    def model_fn(features, labels, mode):
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        return returned(mode, tf.reduce_mean(tf.square(logits - labels)))

    with pytest.raises(ValueError, match=message):
        ke.Estimator(model_fn, str(tmp_path)).train(input_fn(), steps=1)
    assert dir_state(tmp_path) == {}


def test_eval_spec_with_a_non_metric_fails_naming_the_key(tmp_path):
    def model_fn(features, labels, mode):
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels))
        return ke.EstimatorSpec(mode, loss=loss, eval_metric_ops={"acc": (loss, tf.no_op())})

    with pytest.raises(ValueError, match=r"eval_metric_ops\['acc'\] must be a keras.metrics.Metric"):
        ke.Estimator(model_fn, str(tmp_path)).evaluate(input_fn(repeat=False))


def test_nan_loss_stops_before_the_checkpoint_of_that_step(tmp_path):
    def model_fn(features, labels, mode):
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels))
        step = ke.get_global_step()
        # The step with global step 7 goes bad (tf.cond: tf.where would leak NaN gradients).
        loss = tf.cond(step >= 7, lambda: loss * np.nan, lambda: loss)
        if mode == ke.ModeKeys.EVAL:
            return ke.EstimatorSpec(mode, loss=loss)
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.01)))

    config = ke.RunConfig(save_checkpoints_steps=5, steps_per_loop=10, log_step_count_steps=None)
    est = ke.Estimator(model_fn, str(tmp_path), config)
    with pytest.raises(ke.NanLossDuringTrainingError, match="global step 7") as info:
        est.train(input_fn(), steps=20)
    assert info.value.step == 7
    assert est.latest_checkpoint().endswith("model.ckpt-5")
    assert np.all(np.isfinite(est.get_variable_value("dense/kernel")))
    assert not (tmp_path / "model.ckpt-7.index").exists()
    # The in-memory NaN weights are not used again: the next call restores step 5.
    assert np.isfinite(est.evaluate(input_fn(repeat=False))["loss"])
    assert est.evaluate(input_fn(repeat=False))["global_step"] == 5


def test_inf_loss_is_caught_too(tmp_path):
    def model_fn(features, labels, mode):
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels)) + np.inf
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.01)))

    with pytest.raises(ke.NanLossDuringTrainingError, match="Loss is inf at global step 0"):
        ke.Estimator(model_fn, str(tmp_path)).train(input_fn(), steps=3)
    assert dir_state(tmp_path) == {}


def test_estimator_construction_errors(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        ke.Estimator(dense_model_fn, str(a_file))

    def no_params(features, labels, mode):
        return None

    with pytest.raises(ValueError, match=r"does not take a params argument.*\['lr'\]"):
        ke.Estimator(no_params, str(tmp_path), params={"lr": 1})
    with pytest.raises(ValueError, match=r"not expected args: \['foo'\]"):
        ke.Estimator(lambda features, foo: None, str(tmp_path))
    with pytest.raises(ValueError, match=r"must take argument\(s\) \['features'\]"):
        ke.Estimator(lambda labels, mode: None, str(tmp_path))
    with pytest.raises(ValueError, match="config must be a keras_estimator.RunConfig"):
        ke.Estimator(dense_model_fn, str(tmp_path), config={"save_checkpoints_steps": 1})


def test_a_different_model_in_the_same_model_dir_is_refused(trained):
    def bigger(features, labels, mode):
        h = keras.layers.Dense(8, activation="relu")(features["x"])
        h = keras.layers.Dense(8, activation="relu")(h)
        logits = keras.layers.Dense(1)(h)[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels))
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.01)))

    before = dir_state(trained)
    with pytest.raises(ValueError, match=r"has no value for variable\(s\) \[.*dense_2"):
        ke.Estimator(bigger, str(trained)).train(input_fn(), steps=1)
    assert dir_state(trained) == before


def test_minimize_outside_model_fn_is_an_error():
    with pytest.raises(RuntimeError, match="inside model_fn in ModeKeys.TRAIN"):
        ke.minimize(tf.constant(1.0), keras.optimizers.SGD())


def test_evaluate_rejects_bad_steps(trained):
    for steps in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="Must specify steps > 0"):
            estimator(trained).evaluate(input_fn(repeat=False), steps=steps)


def test_a_model_dir_of_foreign_checkpoints_is_a_clear_error(tmp_path):
    foreign = tf.train.Checkpoint(step=tf.Variable(3))
    tf.train.CheckpointManager(foreign, str(tmp_path), max_to_keep=1).save()
    before = dir_state(tmp_path)
    with pytest.raises(ValueError, match="not written by keras-estimator"):
        estimator(tmp_path).train(input_fn(), steps=1)
    assert dir_state(tmp_path) == before


def test_a_warm_start_that_matches_nothing_warns(tmp_path, caplog):
    foreign = tf.train.Checkpoint(step=tf.Variable(3))
    path = tf.train.CheckpointManager(foreign, str(tmp_path / "other"), max_to_keep=1).save()
    est = ke.Estimator(dense_model_fn, str(tmp_path / "m"), params={}, warm_start_from=path)
    with caplog.at_level("WARNING", logger="keras_estimator"):
        est.train(input_fn(), steps=1)
    assert "loaded no variable" in caplog.text
