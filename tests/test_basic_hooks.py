"""keras_estimator.basic_hooks and session_run_hook: tf.estimator's hooks on the compiled loop."""

import logging
import os

import keras
import numpy as np
import pytest

import keras_estimator as ke
import keras_estimator.tensorflow as tf
from keras_estimator.basic_hooks import (
    CheckpointSaverHook, FinalOpsHook, LoggingTensorHook, NanTensorHook, ProfilerHook, StepCounterHook,
    SummarySaverHook,
)
from keras_estimator.session_run_hook import SessionRunArgs, SessionRunHook

X = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
Y = (X[:, 0] > 0).astype("int64")
SPEC_HOOKS = {}


def input_fn():
    return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).repeat().batch(16)


def model_fn(features, labels, mode, params):
    logits = keras.layers.Dense(2, name="out")(features["x"])
    tf.nn.softmax(logits, name="softmax_tensor")
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(labels, logits)
    tf.identity(loss * params.get("scale", 1.0), name="scaled_loss")
    tf.compat.v1.summary.scalar("my_loss", loss)
    train_op = tf.compat.v1.train.GradientDescentOptimizer(0.5).minimize(
        loss, global_step=tf.compat.v1.train.get_global_step())
    hooks = [make(loss, tf.compat.v1.summary.merge_all()) for make in params.get("spec_hooks", [])]
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op, training_hooks=hooks)


def estimator(tmp_path, steps_per_loop=100, **params):
    config = ke.RunConfig(log_step_count_steps=None, save_summary_steps=None, steps_per_loop=steps_per_loop)
    return ke.Estimator(model_fn, str(tmp_path), config, params=params)


def logged_steps(caplog, prefix):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]


def test_logging_tensor_hook_logs_every_n_steps_from_the_first(tmp_path, caplog):
    caplog.set_level(logging.INFO, "keras_estimator")
    hook = LoggingTensorHook({"step": "global_step", "p": "softmax_tensor"}, every_n_iter=7)
    estimator(tmp_path).train(input_fn, steps=20, hooks=[hook])
    lines = logged_steps(caplog, "step = ")
    assert [line.split(",")[0] for line in lines] == ["step = 0", "step = 7", "step = 14"]
    assert "p = [[" in lines[0]


def test_logging_tensor_hook_of_the_spec_logs_model_fn_tensors(tmp_path, caplog):
    caplog.set_level(logging.INFO, "keras_estimator")
    make = lambda loss, summary: LoggingTensorHook({"spec_loss": loss}, every_n_iter=10)  # noqa: E731
    estimator(tmp_path, spec_hooks=[make]).train(input_fn, steps=20)
    values = [float(line.split()[2]) for line in logged_steps(caplog, "spec_loss = ")]
    assert len(values) == 2 and values[1] < values[0]


def test_a_session_run_hook_sees_every_step_and_can_stop(tmp_path):
    class Collect(SessionRunHook):
        def __init__(self):
            self.calls = []

        def begin(self):
            self.calls.append("begin")

        def before_run(self, run_context):
            return SessionRunArgs({"loss": "scaled_loss", "step": "global_step"})

        def after_run(self, run_context, run_values):
            self.calls.append(int(run_values.results["step"]))
            if len(self.calls) == 4:
                run_context.request_stop()

        def end(self, session):
            self.calls.append("end")

    hook = Collect()
    est = estimator(tmp_path, scale=2.0)
    est.train(input_fn, steps=10, hooks=[hook])
    assert hook.calls == ["begin", 0, 1, 2, "end"]
    assert est.get_variable_value("global_step") == 3


def test_checkpoint_saver_hook_saves_on_its_own_cadence(tmp_path):
    est = estimator(tmp_path)
    est.train(input_fn, steps=12, hooks=[CheckpointSaverHook(str(tmp_path), save_steps=4)])
    steps = sorted(int(n.split("-")[1].split(".")[0]) for n in os.listdir(tmp_path) if n.endswith(".index"))
    assert steps == [4, 8, 12]


def test_step_counter_and_summary_saver_write_summaries(tmp_path):
    make = lambda loss, summary: SummarySaverHook(save_steps=5, summary_op=summary)  # noqa: E731
    estimator(tmp_path, spec_hooks=[make]).train(input_fn, steps=10, hooks=[StepCounterHook(every_n_steps=4)])
    tags = {}
    for name in os.listdir(tmp_path):
        if name.startswith("events.out"):
            for event in tf.compat.v1.train.summary_iterator(os.path.join(tmp_path, name)):
                for value in event.summary.value:
                    tags.setdefault(value.tag, []).append(event.step)
    assert tags["my_loss"] == [1, 6] and tags["global_step/sec"] == [5, 9]


def test_final_ops_nan_and_profiler_hooks(tmp_path):
    final = FinalOpsHook({"step": "global_step"})
    profile = str(tmp_path / "profile")
    estimator(tmp_path).train(input_fn, steps=6, hooks=[final, NanTensorHook("scaled_loss"),
                                                          ProfilerHook(save_steps=3, output_dir=profile)])
    assert int(final.final_ops_values["step"]) == 5  # Read in the last step, before its update.
    assert os.listdir(profile)


def test_nan_tensor_hook_can_stop_instead_of_failing(tmp_path):
    est = estimator(tmp_path, steps_per_loop=4, scale=float("nan"))
    est.train(input_fn, steps=10, hooks=[NanTensorHook("scaled_loss", fail_on_nan_loss=False)])
    assert est.get_variable_value("global_step") == 4  # Checked at the end of each loop.
    with pytest.raises(ke.NanLossDuringTrainingError):
        estimator(tmp_path / "b", scale=float("nan")).train(input_fn, steps=10, hooks=[NanTensorHook("scaled_loss")])


def test_an_unknown_tensor_name_is_named(tmp_path):
    with pytest.raises(ValueError, match="fetch tensor 'nope:0', but model_fn created no tensor of that name"):
        estimator(tmp_path).train(input_fn, steps=2, hooks=[LoggingTensorHook(["nope"], every_n_iter=1)])
