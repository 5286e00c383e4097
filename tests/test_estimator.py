"""Behaviour of Estimator.train / evaluate / predict with real TensorFlow and Keras."""

import logging
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import dense_model_fn, dir_state, estimator, input_fn

HELPERS = os.path.join(os.path.dirname(__file__), "helpers.py")


def listed_steps(model_dir):
    state = tf.train.get_checkpoint_state(str(model_dir))
    return [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]


def test_train_resumes_across_calls_and_estimator_objects(tmp_path):
    est = estimator(tmp_path)
    est.train(input_fn(), steps=30)
    est.train(input_fn(), steps=30)
    assert est.get_variable_value("global_step") == 60
    again = estimator(tmp_path)
    again.train(input_fn(), steps=5)
    assert again.get_variable_value("global_step") == 65
    assert again.latest_checkpoint().endswith("model.ckpt-65")


def test_resume_in_a_new_process_is_exact(tmp_path):
    run = lambda steps: subprocess.run(  # noqa: E731
        [sys.executable, HELPERS, str(tmp_path), str(steps), "--eval"],
        capture_output=True, text=True, timeout=300,
    )
    first = run(20)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "GLOBAL_STEP 20" in first.stdout
    loss_in_child = float(first.stdout.split("EVAL_LOSS ")[1].split()[0])
    # The parent restores what the child saved, bit for bit.
    est = estimator(tmp_path, {"lr": 0.05}, save_checkpoints_steps=5)
    assert float(est.evaluate(input_fn(repeat=False))["loss"]) == loss_in_child
    second = run(10)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "GLOBAL_STEP 30" in second.stdout


def test_steps_add_and_max_steps_is_absolute(tmp_path, caplog):
    est = estimator(tmp_path)
    est.train(input_fn(), max_steps=12)
    assert est.get_variable_value("global_step") == 12
    before = dir_state(tmp_path)
    with caplog.at_level(logging.INFO, logger="keras_estimator"):
        est.train(input_fn(), max_steps=10)
    assert "Skipping training since max_steps has already saved" in caplog.text
    assert dir_state(tmp_path) == before
    est.train(input_fn(), steps=3)
    assert est.get_variable_value("global_step") == 15
    est.train(input_fn(), max_steps=20)
    assert est.get_variable_value("global_step") == 20


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": 1, "max_steps": 1}, "Can not provide both steps and max_steps"),
    ({"steps": 0}, "Must specify steps > 0, given: 0"),
    ({"max_steps": 0}, "Must specify max_steps > 0, given: 0"),
    ({"steps": -3}, "Must specify steps > 0"),
])
def test_bad_steps_are_rejected_before_anything_is_written(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        estimator(tmp_path).train(input_fn(), **kwargs)
    assert not os.path.exists(tmp_path / "checkpoint")


def test_training_stops_at_the_end_of_finite_data(tmp_path):
    est = estimator(tmp_path, steps_per_loop=3)
    est.train(input_fn(n=70, batch=10, repeat=False))  # 7 batches
    assert est.get_variable_value("global_step") == 7
    est.train(input_fn(n=70, batch=10, repeat=False), steps=100)
    assert est.get_variable_value("global_step") == 14


def test_checkpoint_cadence_and_retention_span_calls(tmp_path):
    est = estimator(tmp_path, save_checkpoints_steps=10, keep_checkpoint_max=3, steps_per_loop=7)
    est.train(input_fn(), steps=55)
    assert listed_steps(tmp_path) == [40, 50, 55]
    index_55 = tmp_path / "model.ckpt-55.index"
    stamp = (index_55.stat().st_mtime_ns, index_55.read_bytes())
    est.train(input_fn(), steps=5)
    assert listed_steps(tmp_path) == [50, 55, 60]
    # A listed checkpoint is never rewritten (tf.estimator re-saved the restored step).
    assert (index_55.stat().st_mtime_ns, index_55.read_bytes()) == stamp
    assert not (tmp_path / "model.ckpt-40.index").exists()


def test_no_checkpoint_is_written_at_the_start_of_training(tmp_path):
    est = estimator(tmp_path, save_checkpoints_steps=100)
    est.train(input_fn(), steps=4)
    assert listed_steps(tmp_path) == [4]


def test_evaluate_and_predict_from_an_explicit_checkpoint(tmp_path):
    est = estimator(tmp_path, save_checkpoints_steps=5, keep_checkpoint_max=None)
    est.train(input_fn(), steps=15)
    early = str(tmp_path / "model.ckpt-5")
    latest = est.evaluate(input_fn(repeat=False))
    at_5 = est.evaluate(input_fn(repeat=False), checkpoint_path=early)
    assert latest["global_step"] == 15 and at_5["global_step"] == 5
    assert at_5["loss"] != latest["loss"]
    p_latest = [p["logits"] for p in est.predict(input_fn(n=8, repeat=False, labels=False))]
    p_early = [p["logits"] for p in est.predict(input_fn(n=8, repeat=False, labels=False), checkpoint_path=early)]
    assert len(p_latest) == len(p_early) == 8
    assert not np.allclose(p_latest, p_early)
    # Evaluating the old checkpoint again gives the same numbers: nothing leaks between calls.
    assert est.evaluate(input_fn(repeat=False), checkpoint_path=early)["loss"] == at_5["loss"]
    with pytest.raises(ke.CheckpointNotFoundError, match="model.ckpt-999"):
        est.evaluate(input_fn(repeat=False), checkpoint_path=str(tmp_path / "model.ckpt-999"))


def test_evaluate_returns_mean_loss_global_step_and_metrics_reset_each_time(tmp_path):
    est = estimator(tmp_path)
    est.train(input_fn(), steps=40)
    first = est.evaluate(input_fn(n=100, batch=32, repeat=False))
    second = est.evaluate(input_fn(n=100, batch=32, repeat=False))
    # The Sum metric would read 200 if metric state were not reset between evaluations.
    assert first["examples"] == second["examples"] == 100
    assert first["accuracy"] == second["accuracy"] and first["accuracy"] > 0.8
    assert isinstance(first["loss"], np.float32) and isinstance(first["global_step"], np.int64)
    assert first["global_step"] == 40
    # The loss is the mean of per-batch mean losses (a short last batch weighs as a full one).
    x, y = __import__("helpers").make_data(100)
    def one_batch(i):
        return lambda: tf.data.Dataset.from_tensor_slices(({"x": x[i:i + 32]}, y[i:i + 32])).batch(32)

    batches = [est.evaluate(one_batch(i))["loss"] for i in range(0, 100, 32)]
    assert first["loss"] == pytest.approx(np.mean(batches), rel=1e-5)
    # Metric variables never reach a checkpoint.
    assert not [n for n in est.get_variable_names() if "accuracy" in n or n.startswith("sum")]
    assert est.evaluate(input_fn(n=64, repeat=False), steps=1)["examples"] == 32


def test_predict_yields_examples_or_batches_and_filters_keys(tmp_path):
    est = estimator(tmp_path)
    est.train(input_fn(), steps=5)
    singles = list(est.predict(input_fn(n=10, batch=4, repeat=False)))
    assert len(singles) == 10 and set(singles[0]) == {"logits", "class"}
    assert np.ndim(singles[0]["logits"]) == 0
    batches = list(est.predict(input_fn(n=10, batch=4, repeat=False), yield_single_examples=False))
    assert [len(b["logits"]) for b in batches] == [4, 4, 2]
    only = list(est.predict(input_fn(n=10, repeat=False), predict_keys=["class"]))
    assert set(only[0]) == {"class"}
    # Labels in a predict input are ignored.
    with_labels = [p["logits"] for p in est.predict(input_fn(n=10, batch=4, repeat=False))]
    np.testing.assert_allclose(with_labels, [p["logits"] for p in singles])
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['nope'\]"):
        est.predict(input_fn(n=10, repeat=False), predict_keys=["class", "nope"])


def test_dropout_is_active_only_in_train(tmp_path):
    class Losses(ke.Hook):
        def __init__(self):
            self.values = []

        def next_step(self, step):
            return step + 1

        def after_run(self, context):
            self.values.append(context.loss)

    # Learning rate 0: weights never change, so any change in the loss comes from dropout.
    est = estimator(tmp_path, {"dropout": 0.5, "lr": 0.0, "optimizer": "SGD"}, tf_random_seed=3)
    hook = Losses()
    est.train(input_fn(n=32, batch=32), steps=6, hooks=[hook])
    assert len(hook.values) == 6 and len(set(hook.values)) > 1
    one_batch = input_fn(n=32, batch=32, repeat=False)
    assert est.evaluate(one_batch)["loss"] == est.evaluate(one_batch)["loss"]
    first = [p["logits"] for p in est.predict(one_batch)]
    np.testing.assert_array_equal(first, [p["logits"] for p in est.predict(one_batch)])


def test_get_global_step_inside_model_fn_is_the_running_step(tmp_path):
    def model_fn(features, labels, mode):
        total = tf.Variable(tf.constant(0, tf.int64), trainable=False, name="step_sum")
        total.assign_add(ke.get_global_step())
        logits = keras.layers.Dense(1)(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels))
        return ke.EstimatorSpec(mode, loss=loss, train_op=ke.minimize(loss, keras.optimizers.SGD(0.01)))

    est = ke.Estimator(model_fn, str(tmp_path), ke.RunConfig(steps_per_loop=4, log_step_count_steps=None))
    est.train(input_fn(), steps=10)
    assert est.get_variable_value("step_sum") == sum(range(10))
    est.train(input_fn(), steps=3)
    assert est.get_variable_value("step_sum") == sum(range(13))
    assert ke.get_global_step() is None


def test_same_seed_same_weights(tmp_path):
    a = estimator(tmp_path / "a", tf_random_seed=7)
    b = estimator(tmp_path / "b", tf_random_seed=7)
    a.train(input_fn(), steps=5)
    b.train(input_fn(), steps=5)
    for name in a.get_variable_names():
        np.testing.assert_array_equal(a.get_variable_value(name), b.get_variable_value(name))
    assert "dense/kernel" in a.get_variable_names()


def test_jit_compile_trains_the_same_model(tmp_path):
    """XLA compiles the step; the same seed and data give the same weights (float tolerance)."""
    plain = estimator(tmp_path / "plain", tf_random_seed=7)
    jit = estimator(tmp_path / "jit", tf_random_seed=7, jit_compile=True, steps_per_loop=3)
    plain.train(input_fn(), steps=6)
    jit.train(input_fn(), steps=6)
    assert jit.latest_checkpoint().endswith("model.ckpt-6")
    for name in plain.get_variable_names():
        np.testing.assert_allclose(jit.get_variable_value(name), plain.get_variable_value(name), rtol=1e-4, atol=1e-5)
    assert jit.evaluate(input_fn(repeat=False))["global_step"] == 6


def test_logs_and_tensorboard_summaries(tmp_path, caplog):
    est = estimator(tmp_path, log_step_count_steps=5, save_summary_steps=2)
    with caplog.at_level(logging.INFO, logger="keras_estimator"):
        est.train(input_fn(), steps=10)
        est.evaluate(input_fn(repeat=False), name="holdout")
    assert "loss = " in caplog.text and "step = 10" in caplog.text
    assert "global_step/sec" in caplog.text and "Loss for final step" in caplog.text

    def tags(directory):
        found = {}
        for f in tf.io.gfile.glob(os.path.join(directory, "events.out.tfevents.*")):
            for event in tf.compat.v1.train.summary_iterator(f):
                for value in event.summary.value:
                    found.setdefault(value.tag, []).append(event.step)
        return found

    train_tags = tags(str(tmp_path))
    assert train_tags["loss"] == train_tags["global_step/sec"] == [2, 4, 6, 8, 10]
    assert set(tags(str(tmp_path / "eval_holdout"))) >= {"loss", "accuracy", "examples"}


def test_hooks_see_steps_and_can_stop_training(tmp_path):
    est = estimator(tmp_path, steps_per_loop=50)
    est.train(input_fn(), hooks=[ke.StopAtStepHook(num_steps=7)])
    assert est.get_variable_value("global_step") == 7
    est.train(input_fn(), hooks=[ke.StopAtStepHook(last_step=5)])  # Already past: no step runs.
    assert est.get_variable_value("global_step") == 7

    class StopAfterSave(ke.CheckpointSaverListener):
        def __init__(self):
            self.saves = []

        def after_save(self, global_step, checkpoint_path):
            self.saves.append(global_step)
            return global_step >= 14

    listener = StopAfterSave()
    est2 = estimator(tmp_path / "b", save_checkpoints_steps=7)
    est2.train(input_fn(), steps=100, saving_listeners=[listener])
    assert listener.saves == [7, 14]
    assert est2.get_variable_value("global_step") == 14


def test_temporary_model_dir_and_config_conflicts(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="keras_estimator"):
        est = ke.Estimator(dense_model_fn, params={})
    assert os.path.isdir(est.model_dir) and est.model_dir in caplog.text
    assert est.config.model_dir == est.model_dir
    with pytest.raises(ValueError, match="different values"):
        ke.Estimator(dense_model_fn, str(tmp_path / "a"), ke.RunConfig(model_dir=str(tmp_path / "b")))
    same = ke.Estimator(dense_model_fn, config=ke.RunConfig(model_dir=str(tmp_path / "c")), params={"lr": 1})
    assert same.model_dir == str(tmp_path / "c") and same.params == {"lr": 1}


def test_a_kill_during_a_checkpoint_save_leaves_the_previous_one_restorable(tmp_path):
    model_dir = tmp_path / "m"
    for delay_ms in (0, 2, 10):
        killed = subprocess.run(
            [sys.executable, HELPERS, str(model_dir), "12", "--kill-near-save", "10", str(delay_ms)],
            capture_output=True, text=True, timeout=300,
        )
        assert killed.returncode == -9, killed.stderr[-3000:]
        latest = tf.train.latest_checkpoint(str(model_dir))
        step = int(tf.train.load_variable(latest, "global_step/.ATTRIBUTES/VARIABLE_VALUE"))
        assert step in (5, 10)
        for path in tf.train.get_checkpoint_state(str(model_dir)).all_model_checkpoint_paths:
            assert tf.io.gfile.exists(path + ".index")
    est = estimator(model_dir, {"lr": 0.05}, save_checkpoints_steps=5)
    est.train(input_fn(), steps=3)
    assert est.get_variable_value("global_step") in (8, 13)


def test_warm_start_loads_matching_weights_into_an_empty_model_dir(tmp_path):
    source = estimator(tmp_path / "source")
    source.train(input_fn(), steps=10)
    # Learning rate 0: after one step the weights are exactly the warm-start values.
    target = ke.Estimator(
        dense_model_fn, str(tmp_path / "target"), ke.RunConfig(log_step_count_steps=None),
        params={"lr": 0.0, "optimizer": "SGD"},
        warm_start_from=ke.WarmStartSettings(str(tmp_path / "source"), vars_to_warm_start="dense_1/.*"),
    )
    target.train(input_fn(), steps=1)
    assert target.get_variable_value("global_step") == 1
    np.testing.assert_array_equal(target.get_variable_value("dense_1/kernel"), source.get_variable_value("dense_1/kernel"))
    assert not np.array_equal(target.get_variable_value("dense/kernel"), source.get_variable_value("dense/kernel"))
    # Once model_dir has a checkpoint, training resumes from it, not from the warm start.
    target.train(input_fn(), steps=1)
    assert target.get_variable_value("global_step") == 2


def test_an_update_that_makes_a_weight_inf_is_never_checkpointed(tmp_path):
    """The loss of the step is finite (computed before its update), but the update overflows: the
    save at that step is refused, naming the variable (tf.estimator 2.15 checkpointed it)."""
    def model_fn(features, labels, mode):
        layer = keras.layers.Dense(1, name="dense")
        logits = layer(features["x"])[:, 0]
        loss = tf.reduce_mean(tf.square(logits - labels))
        step = ke.get_global_step()
        update = ke.minimize(loss, keras.optimizers.SGD(0.01))
        with tf.control_dependencies([update]):
            overflow = tf.cond(step == 5, lambda: layer.kernel.assign(layer.kernel * np.inf),
                               lambda: tf.identity(layer.kernel))
        return ke.EstimatorSpec(mode, loss=loss, train_op=tf.group(update, overflow))

    config = ke.RunConfig(save_checkpoints_steps=2, log_step_count_steps=None, save_summary_steps=None)
    est = ke.Estimator(model_fn, str(tmp_path), config)
    with pytest.raises(ke.NanLossDuringTrainingError, match=r"Variable dense/kernel holds NaN or Inf after global step 6") as info:
        est.train(input_fn(), steps=10)
    assert info.value.step == 6 and info.value.variable == "dense/kernel" and info.value.loss is None
    assert est.latest_checkpoint().endswith("model.ckpt-4")
    assert not (tmp_path / "model.ckpt-6.index").exists()


def _clipped_sum(values):
    """A helper with a loop over a tensor: AutoGraph must convert it (and its caller)."""
    total = tf.constant(0.0)
    for i in tf.range(tf.shape(values)[0]):
        total += tf.minimum(values[i], 1.0)
    return total


def test_model_fn_with_tensor_control_flow_is_converted_by_autograph(tmp_path):
    """A tensor used as a Python bool, in model_fn and in a function it calls, works as inside
    tf.function, in every mode (model_fn runs unconverted until a trace needs AutoGraph)."""
    x = np.array([[0.5], [2.0], [-1.0], [3.0]], "float32")

    def model_fn(features, labels, mode):
        scale = keras.layers.Dense(1, kernel_initializer="ones", use_bias=False, name="scale")
        y = scale(features["x"])[:, 0]
        if tf.reduce_sum(y) > 0:  # A tensor condition: tf.cond after conversion.
            y = y * 2.0
        else:
            y = -y
        if mode == ke.ModeKeys.PREDICT:
            return ke.EstimatorSpec(mode, predictions={"y": y, "clipped": _clipped_sum(y) + 0.0 * y})
        loss = tf.reduce_mean(tf.square(y - labels))
        train_op = ke.minimize(loss, keras.optimizers.SGD(0.0)) if mode == ke.ModeKeys.TRAIN else None
        return ke.EstimatorSpec(mode, loss=loss, train_op=train_op)

    def data():
        return tf.data.Dataset.from_tensor_slices(({"x": x}, 2.0 * x[:, 0])).batch(4)

    est = ke.Estimator(model_fn, str(tmp_path), ke.RunConfig(log_step_count_steps=None, save_summary_steps=None))
    est.train(data, steps=1)
    assert est.evaluate(data)["loss"] == pytest.approx(0.0)  # y = 2x: the tensor branch ran.
    prediction = next(est.predict(data, yield_single_examples=False))
    np.testing.assert_allclose(prediction["y"], 2.0 * x[:, 0])
    np.testing.assert_allclose(prediction["clipped"], [1.0 + 1.0 - 2.0 + 1.0] * 4)  # min(y, 1) summed.
