"""keras_estimator.experimental: InMemoryEvaluatorHook, the stop-at-checkpoint-step hooks and the
early-stopping re-exports, on real training."""

import json

import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import estimator, input_fn
from keras_estimator import experimental
from keras_estimator.early_stopping import read_eval_metrics

EVAL_INPUT = input_fn(n=64, batch=16, repeat=False, seed=3)


def test_early_stopping_names_are_re_exported():
    for name in ("make_early_stopping_hook", "stop_if_higher_hook", "stop_if_lower_hook",
                 "stop_if_no_increase_hook", "stop_if_no_decrease_hook"):
        assert getattr(ke.experimental, name) is getattr(ke, name)


def test_evaluates_the_checkpoint_of_every_nth_step(tmp_path):
    est = estimator(tmp_path, {"lr": 0.05}, save_checkpoints_steps=5, tf_random_seed=1)
    hook = ke.experimental.InMemoryEvaluatorHook(est, EVAL_INPUT, steps=2, every_n_iter=10)
    est.train(input_fn(), steps=30, hooks=[hook])
    assert sorted(hook.results) == [10, 20, 30]  # 30: the last step is a save step, evaluated in end.
    assert sorted(read_eval_metrics(tmp_path / "eval")) == [10, 20, 30]
    # Exactly the weights of step 10: the same result as evaluating its checkpoint afterwards.
    again = est.evaluate(EVAL_INPUT, steps=2, checkpoint_path=str(tmp_path / "model.ckpt-10"), name="check")
    assert hook.results[10]["loss"] == pytest.approx(again["loss"], rel=1e-6)
    assert hook.results[10]["global_step"] == 10
    # A resumed train evaluates its starting checkpoint first; `name` picks the directory.
    named = ke.experimental.InMemoryEvaluatorHook(est, EVAL_INPUT, steps=1, name="train", every_n_iter=10)
    est.train(input_fn(), steps=10, hooks=[named])
    assert sorted(named.results) == [30, 40]
    assert sorted(read_eval_metrics(tmp_path / "eval_train")) == [30, 40]


def test_with_early_stopping_on_its_results(tmp_path):
    est = estimator(tmp_path, {"lr": 0.05}, save_checkpoints_steps=5, tf_random_seed=1)
    evaluator = ke.experimental.InMemoryEvaluatorHook(est, EVAL_INPUT, steps=2, every_n_iter=10)
    stop = ke.experimental.stop_if_lower_hook(est, "loss", 100.0, run_every_secs=None, run_every_steps=10)
    est.train(input_fn(), steps=100, hooks=[evaluator, stop])
    # Step 10's evaluation runs after step 10's checkpoint; the stop hook sees it at step 20.
    assert stop.stopped_at_step == 20
    assert est.get_variable_value("global_step") == 20


def test_off_cadence_evaluates_the_next_checkpoint_and_warns(tmp_path, caplog):
    est = estimator(tmp_path, {"lr": 0.05}, save_checkpoints_steps=4, tf_random_seed=1)
    with caplog.at_level("WARNING", logger="keras_estimator"):
        hook = ke.experimental.InMemoryEvaluatorHook(est, EVAL_INPUT, steps=1, every_n_iter=6)
        est.train(input_fn(), steps=14, hooks=[hook])
    assert sorted(hook.results) == [8, 12]  # After the triggers at 6 and 12.
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "not a divisor of every_n_iter=6" in messages
    assert "the final weights (step 14) are not evaluated" in messages


def test_bad_arguments_raise(tmp_path, monkeypatch):
    est = estimator(tmp_path)
    for every in (0, -1, None, 1.5, True):
        with pytest.raises(ValueError, match=rf"invalid every_n_iter={every}\."):
            ke.experimental.InMemoryEvaluatorHook(est, EVAL_INPUT, every_n_iter=every)
    with pytest.raises(ValueError, match="must be a keras_estimator.Estimator"):
        ke.experimental.InMemoryEvaluatorHook(object(), EVAL_INPUT)
    with pytest.raises(ValueError, match="Must specify steps > 0"):
        ke.experimental.InMemoryEvaluatorHook(est, EVAL_INPUT, steps=0)
    with pytest.raises(ValueError, match="during training"):
        est.evaluate(EVAL_INPUT, hooks=[ke.experimental.InMemoryEvaluatorHook(est, EVAL_INPUT)])
    monkeypatch.setenv("TF_CONFIG", json.dumps({
        "cluster": {"chief": ["localhost:1"], "worker": ["localhost:2"]}, "task": {"type": "worker", "index": 0}}))
    worker = estimator(tmp_path / "worker")
    with pytest.raises(ValueError, match="supports only single machine"):
        ke.experimental.InMemoryEvaluatorHook(worker, EVAL_INPUT)
    # The stop hooks: the chief stops at last_step, a worker when the chief's checkpoint has it.
    assert isinstance(ke.experimental.make_stop_at_checkpoint_step_hook(est, 10), ke.StopAtStepHook)
    assert isinstance(ke.experimental.make_stop_at_checkpoint_step_hook(worker, 10),
                      experimental.StopAtCheckpointStepHook)


def test_a_worker_stops_when_the_chiefs_checkpoint_reaches_last_step(tmp_path):
    est = estimator(tmp_path, save_checkpoints_steps=5)
    est.train(input_fn(), steps=10)
    hook = experimental.StopAtCheckpointStepHook(est, last_step=10, wait_after_file_check_secs=0)
    assert hook.next_step(3) == 10
    context = ke.RunContext(est, ke.ModeKeys.TRAIN, 9)
    hook.after_run(context)
    assert not context.stop_requested  # Not there yet itself.
    context.global_step = 10
    hook.after_run(context)
    assert context.stop_requested
    waiting = experimental.StopAtCheckpointStepHook(est, last_step=15, wait_after_file_check_secs=0.01)
    context = ke.RunContext(est, ke.ModeKeys.TRAIN, 15)
    waiting.after_run(context)
    assert not context.stop_requested  # The chief's checkpoint is at 10: keep training, check again.
    assert waiting.next_step(15) == 16
    with pytest.raises(ValueError, match="last_step must be specified"):
        experimental.StopAtCheckpointStepHook(est, None)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("-10")
