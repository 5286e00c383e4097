"""Early stopping from evaluation results (stop_if_* hooks), with real TensorFlow and Keras."""

import logging
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_estimator as ke
from helpers import estimator, input_fn
from keras_estimator import early_stopping as es

EVAL_INPUT = input_fn(n=64, batch=16, repeat=False, seed=3)
MAX_STEPS = 200


def latest_step(model_dir):
    return int(tf.train.latest_checkpoint(str(model_dir)).rsplit("-", 1)[1])


def run(est, hook, max_steps=MAX_STEPS, name=None):
    """train_and_evaluate with a checkpoint (and an evaluation) every 5 steps."""
    result, _ = ke.train_and_evaluate(
        est,
        ke.TrainSpec(input_fn(), max_steps=max_steps, hooks=[hook]),
        ke.EvalSpec(EVAL_INPUT, steps=2, name=name, throttle_secs=0, start_delay_secs=0),
    )
    return result


def plateau_estimator(model_dir):
    """Learns for 10 steps, then the learning rate is 0: the eval loss stays the same."""
    lr = keras.optimizers.schedules.PiecewiseConstantDecay([9], [0.05, 0.0])  # Optimizer iterations 0..9.
    return estimator(model_dir, {"lr": lr}, save_checkpoints_steps=5, tf_random_seed=1)


def learning_estimator(model_dir):
    return estimator(model_dir, {"lr": 0.05}, save_checkpoints_steps=5, tf_random_seed=1)


def write_evals(eval_dir, evals):
    """Writes {step: {tag: value}} as evaluate does (tf.summary v2 scalars)."""
    writer = tf.summary.create_file_writer(str(eval_dir))
    with writer.as_default():
        for step, metrics in evals.items():
            for tag, value in metrics.items():
                tf.summary.scalar(tag, value, step=step)
    writer.close()


def drive(hook, est, evals, eval_dir, every=5, last=60):
    """Runs the hook protocol as training does: each step's checkpoint is evaluated, then the
    hooks run (tf.estimator's CheckpointSaverHook and its listeners ran before the program's).

    Returns the steps at which the hook was asked (after begin) and the stop step, if any."""
    context = ke.RunContext(est, ke.ModeKeys.TRAIN, 0)
    hook.begin(context)
    for step in range(every, last + 1, every):
        if context.stop_requested:
            break
        context.global_step = step
        if step in evals:
            write_evals(eval_dir, {step: evals[step]})
        hook.after_run(context)
    return hook.stopped_at_step


# -- read_eval_metrics ---------------------------------------------------------------------------


def test_read_eval_metrics_of_real_evaluations(tmp_path):
    est = learning_estimator(tmp_path)
    est.train(input_fn(), steps=5)
    r5 = est.evaluate(EVAL_INPUT)
    named = est.evaluate(input_fn(n=32, batch=16, repeat=False, seed=4), name="other")
    est.train(input_fn(), steps=5)
    first10 = est.evaluate(EVAL_INPUT)
    again10 = est.evaluate(input_fn(n=32, batch=16, repeat=False, seed=5))  # The latest wins.
    assert float(again10["loss"]) != float(first10["loss"])

    metrics = es.read_eval_metrics(tmp_path / "eval")
    assert list(metrics) == [5, 10]
    for step, result in ((5, r5), (10, again10)):
        assert set(metrics[step]) == {"loss", "accuracy", "examples"}  # Not global_step.
        for tag, value in metrics[step].items():
            assert type(value) is float and value == pytest.approx(float(result[tag]), rel=1e-6)
    assert metrics[10]["examples"] == 32.0

    other = es.read_eval_metrics(str(tmp_path / "eval_other"))
    assert list(other) == [5] and other[5]["loss"] == pytest.approx(float(named["loss"]), rel=1e-6)
    assert es.read_eval_metrics(tmp_path / "missing") == {}


def test_read_eval_metrics_reads_v1_simple_values_and_skips_other_summaries(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        v1 = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag="auc", simple_value=0.75)])
        tf.summary.experimental.write_raw_pb(v1.SerializeToString(), step=30)
        tf.summary.scalar("loss", 0.5, step=30)
        tf.summary.histogram("weights", [1.0, 2.0, 3.0], step=30)
        tf.summary.text("note", "not a metric", step=30)
        tf.summary.scalar("loss", 0.25, step=20)  # Sorted by step, not by write order.
    writer.close()
    assert es.read_eval_metrics(tmp_path) == {20: {"loss": 0.25}, 30: {"auc": 0.75, "loss": 0.5}}
    assert list(es.read_eval_metrics(tmp_path)) == [20, 30]


# -- stop_if_no_decrease_hook in train_and_evaluate ----------------------------------------------


def test_no_decrease_stops_a_plateau_and_a_resumed_run_trains_no_further(tmp_path, caplog):
    est = plateau_estimator(tmp_path)
    hook = es.stop_if_no_decrease_hook(
        est, "loss", max_steps_without_decrease=10, run_every_secs=None, run_every_steps=5
    )
    with caplog.at_level(logging.INFO, logger="keras_estimator"):
        result = run(est, hook)

    stopped = hook.stopped_at_step
    assert stopped is not None and stopped < 50  # Far from max_steps=200.
    assert latest_step(tmp_path) == stopped == int(result["global_step"])
    # The evaluations the hook saw at its last check (up to that step's own checkpoint: it was
    # saved and evaluated before the hooks ran, as tf.estimator's CheckpointSaverHook ran before
    # the program's hooks) show 10 steps without a decrease; one check earlier they did not.
    losses = es.read_eval_metrics(tmp_path / "eval")
    assert list(losses) == list(range(5, stopped + 1, 5))
    seen = [(s, m["loss"]) for s, m in losses.items() if s <= stopped]
    best_step = min(seen, key=lambda sl: sl[1])[0]
    assert seen[-1][0] - best_step >= 10 > seen[-2][0] - best_step
    assert losses[stopped]["loss"] == losses[best_step]["loss"]  # A plateau: the learning rate is 0.
    assert f"Early stopping at global step {stopped}: eval metric 'loss'" in caplog.text
    assert hook.stop_reason.startswith("eval metric 'loss'") and "no decrease for" in hook.stop_reason

    # A new run with a new hook stops before its first step: no new checkpoint.
    again = es.stop_if_no_decrease_hook(est, "loss", 10, run_every_secs=None, run_every_steps=5)
    est.train(input_fn(), max_steps=MAX_STEPS, hooks=[again])
    assert again.stopped_at_step == stopped == latest_step(tmp_path)
    assert hook.stopped_at_step == stopped  # The first run's hook still tells where it stopped.


def test_no_decrease_does_not_stop_while_the_loss_decreases(tmp_path):
    est = learning_estimator(tmp_path)
    hook = es.stop_if_no_decrease_hook(est, "loss", 10, run_every_secs=None, run_every_steps=5)
    result = run(est, hook, max_steps=30)
    assert hook.stopped_at_step is None and hook.stop_reason is None
    assert latest_step(tmp_path) == 30 and int(result["global_step"]) == 30
    losses = [m["loss"] for m in es.read_eval_metrics(tmp_path / "eval").values()]
    assert len(losses) == 6 and all(a > b for a, b in zip(losses, losses[1:]))


# -- thresholds and min_steps in train_and_evaluate ----------------------------------------------


def test_stop_if_higher_stops_at_the_check_after_the_metric_crosses(tmp_path):
    est = learning_estimator(tmp_path)
    hook = es.stop_if_higher_hook(est, "accuracy", 0.8, eval_dir=tmp_path / "eval_acc",
                                  run_every_secs=None, run_every_steps=5)
    run(est, hook, name="acc")
    evals = es.read_eval_metrics(tmp_path / "eval_acc")
    first = next(s for s, m in evals.items() if m["accuracy"] > 0.8)
    assert evals[5]["accuracy"] <= 0.8  # Not stopped at once.
    assert hook.stopped_at_step == first == latest_step(tmp_path)  # The step's evaluation ran first.
    assert f"'accuracy' = {evals[first]['accuracy']:.6g} at step {first} is higher than" in hook.stop_reason


@pytest.mark.parametrize("min_steps, expected", [(0, 5), (20, 20)])
def test_stop_if_lower_ignores_evaluations_before_min_steps(tmp_path, min_steps, expected):
    est = learning_estimator(tmp_path)
    # Any loss is lower than 100: the first evaluation at or after min_steps stops training.
    hook = es.stop_if_lower_hook(est, "loss", 100, min_steps=min_steps, run_every_secs=None, run_every_steps=5)
    run(est, hook)
    assert hook.stopped_at_step == expected == latest_step(tmp_path)
    assert f"at step {expected} is lower than the threshold 100" in hook.stop_reason


def test_no_evaluation_results_never_stop(tmp_path):
    est = learning_estimator(tmp_path)
    hooks = [
        es.stop_if_lower_hook(est, "loss", 100, run_every_secs=None, run_every_steps=1),
        es.stop_if_no_decrease_hook(est, "nonexistent", 1, run_every_secs=None, run_every_steps=1),
    ]
    est.train(input_fn(), max_steps=12, hooks=hooks)  # No evaluate: model_dir/eval never exists.
    assert [h.stopped_at_step for h in hooks] == [None, None]
    assert latest_step(tmp_path) == 12


def test_a_missing_metric_names_the_available_ones(tmp_path):
    est = learning_estimator(tmp_path)
    est.train(input_fn(), steps=5)
    est.evaluate(EVAL_INPUT)
    hook = es.stop_if_higher_hook(est, "acc", 0.9, run_every_secs=None, run_every_steps=5)
    with pytest.raises(ValueError, match=r"metric 'acc' is not in the evaluation results at step 5 .*"
                                         r"available metrics: accuracy, examples, loss"):
        est.train(input_fn(), steps=5, hooks=[hook])
    # Evaluations before min_steps are not read, so they cannot be missing it.
    late = es.stop_if_higher_hook(est, "acc", 0.9, min_steps=6, run_every_secs=None, run_every_steps=5)
    est.train(input_fn(), steps=5, hooks=[late])
    assert late.stopped_at_step is None


# -- the conditions, step by step ----------------------------------------------------------------


def test_no_increase_counts_steps_since_the_best_value(tmp_path):
    est = learning_estimator(tmp_path / "model")
    acc = [0.5, 0.7, 0.9, 0.9, 0.8, 0.85, 0.95, 0.95, 0.9, 0.95, 0.9, 0.9]
    evals = {5 * (i + 1): {"accuracy": a} for i, a in enumerate(acc)}  # Steps 5..60.
    hook = es.stop_if_no_increase_hook(est, "accuracy", 20, eval_dir=tmp_path / "eval",
                                       run_every_secs=None, run_every_steps=5)
    # 0.9 at 15 (30 - 15 < 20), then 0.95 at 35; equal values later are no increase, so the
    # evaluation at 55 is 20 steps after the best, seen by the check at 55.
    assert drive(hook, est, evals, tmp_path / "eval") == 55
    assert "no increase for 20 steps since 0.95 at step 35" in hook.stop_reason


def test_no_decrease_skips_nan_and_respects_min_steps(tmp_path):
    est = learning_estimator(tmp_path / "model")
    evals = {5: {"loss": 0.1}, 10: {"loss": math.nan}, 15: {"loss": 0.9}, 20: {"loss": 0.8},
             25: {"loss": 0.85}, 30: {"loss": 0.9}, 35: {"loss": 0.9}}
    hook = es.stop_if_no_decrease_hook(est, "loss", 10, eval_dir=tmp_path / "eval", min_steps=10,
                                       run_every_secs=None, run_every_steps=5)
    # 0.1 at step 5 is before min_steps; NaN at 10 is never the best: best 0.8 at 20, 30 - 20.
    assert drive(hook, est, evals, tmp_path / "eval") == 30


def test_threshold_uses_any_evaluation_not_only_the_latest(tmp_path):
    est = learning_estimator(tmp_path / "model")
    write_evals(tmp_path / "eval", {5: {"loss": 0.2}, 10: {"loss": 0.9}})
    hook = es.stop_if_lower_hook(est, "loss", 0.3, eval_dir=tmp_path / "eval", run_every_secs=None,
                                 run_every_steps=5)
    context = ke.RunContext(est, ke.ModeKeys.TRAIN, 10)
    hook.begin(context)  # Checked before the first step.
    assert context.stop_requested and hook.stopped_at_step == 10
    higher = es.stop_if_higher_hook(est, "loss", 0.9, eval_dir=tmp_path / "eval", run_every_secs=None,
                                    run_every_steps=5)
    context = ke.RunContext(est, ke.ModeKeys.TRAIN, 10)
    higher.begin(context)
    assert not context.stop_requested and higher.stopped_at_step is None  # Not strictly higher.


# -- cadence ---------------------------------------------------------------------------------------


class LoopEnds(ke.Hook):
    def __init__(self):
        self.steps = []

    def after_run(self, context):
        self.steps.append(context.global_step)


def test_run_every_steps_ends_loops_at_its_multiples(tmp_path):
    est = estimator(tmp_path, {"lr": 0.05}, save_checkpoints_steps=1000, steps_per_loop=100)
    calls = []

    def fourth_call():
        calls.append(len(calls))
        return len(calls) == 4  # begin, 7, 14, 21.

    hook = es.make_early_stopping_hook(est, fourth_call, run_every_secs=None, run_every_steps=7)
    ends = LoopEnds()
    est.train(input_fn(), max_steps=30, hooks=[hook, ends])
    assert ends.steps == [7, 14, 21]
    assert hook.stopped_at_step == 21 == latest_step(tmp_path)
    assert hook.stop_reason is None

    # Resumed at 21 with the stop condition gone: checks at begin, 28, and none at 30.
    calls.clear()
    quiet = es.make_early_stopping_hook(est, lambda: calls.append(1), run_every_secs=None, run_every_steps=7)
    ends = LoopEnds()
    est.train(input_fn(), max_steps=30, hooks=[quiet, ends])
    assert ends.steps == [28, 30] and len(calls) == 2 and quiet.stopped_at_step is None


def test_run_every_secs_checks_at_loop_ends(tmp_path):
    est = estimator(tmp_path, {"lr": 0.05}, save_checkpoints_steps=1000, steps_per_loop=4)
    calls = []
    often = es.make_early_stopping_hook(est, lambda: calls.append(1), run_every_secs=1e-9)
    ends = LoopEnds()
    est.train(input_fn(), max_steps=12, hooks=[often, ends])
    assert ends.steps == [4, 8, 12] and len(calls) == 4  # begin and each loop end.

    calls.clear()
    rarely = es.make_early_stopping_hook(est, lambda: calls.append(1))  # Default: every 60 s.
    est.train(input_fn(), max_steps=24, hooks=[rarely])
    assert len(calls) == 1  # Only at begin.


# -- argument errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    ({"run_every_steps": 5}, "Exactly one of run_every_secs and run_every_steps.*run_every_secs=None"),
    ({"run_every_secs": None}, "Exactly one of run_every_secs and run_every_steps"),
    ({"run_every_secs": None, "run_every_steps": 0}, "run_every_steps must be an integer >= 1"),
    ({"run_every_secs": None, "run_every_steps": 2.5}, "run_every_steps must be an integer"),
    ({"run_every_secs": 0}, "run_every_secs must be a positive number"),
    ({"run_every_secs": -1}, "run_every_secs must be a positive number"),
    ({"min_steps": -1}, "min_steps must be an integer >= 0"),
    ({"metric_name": ""}, "metric_name must be a non-empty string"),
    ({"max_steps_without_decrease": 0}, "max_steps_without_decrease must be an integer >= 1"),
    ({"eval_dir": 3}, "eval_dir must be a path"),
    ({"estimator": "model_dir"}, "estimator must be a keras_estimator.Estimator"),
])
def test_no_decrease_argument_errors(tmp_path, kwargs, match):
    args = {"estimator": learning_estimator(tmp_path), "metric_name": "loss", "max_steps_without_decrease": 10}
    with pytest.raises(ValueError, match=match):
        es.stop_if_no_decrease_hook(**{**args, **kwargs})


def test_other_argument_errors(tmp_path):
    est = learning_estimator(tmp_path)
    with pytest.raises(ValueError, match="max_steps_without_increase must be an integer >= 1"):
        es.stop_if_no_increase_hook(est, "accuracy", -5)
    with pytest.raises(ValueError, match="threshold must be a number"):
        es.stop_if_higher_hook(est, "accuracy", "0.9")
    with pytest.raises(ValueError, match="threshold must be a number"):
        es.stop_if_lower_hook(est, "loss", np.nan)
    with pytest.raises(ValueError, match="should_stop_fn must be callable"):
        es.make_early_stopping_hook(est, True)
    with pytest.raises(ValueError, match="Exactly one of run_every_secs and run_every_steps"):
        es.make_early_stopping_hook(est, lambda: False, run_every_secs=1, run_every_steps=1)


def test_hooks_are_for_training_only(tmp_path):
    est = learning_estimator(tmp_path)
    est.train(input_fn(), steps=5)
    hook = es.stop_if_lower_hook(est, "loss", 0.1)
    with pytest.raises(ValueError, match="Early-stopping hooks stop training"):
        est.evaluate(EVAL_INPUT, hooks=[hook])
