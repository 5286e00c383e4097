"""Early stopping from evaluation results: tf.estimator.experimental's `stop_if_*` hooks.

Each hook is a `Hook` for `Estimator.train` (or `TrainSpec.hooks`) that now and then reads the
evaluation summaries `Estimator.evaluate` wrote (`model_dir/eval` by default) and requests a
stop when a condition on one metric holds. As in tf.estimator, the hooks only read what
evaluation already wrote: with `train_and_evaluate` the checkpoint saved at step N is evaluated
after the hooks ran at step N, so the check at step N sees evaluations up to the previous
checkpoint.

The decision is kept on the hook (`hook.stopped_at_step`) and logged. In a multi-worker cluster
every task runs the hook (model_dir must be shared, as for checkpoints), and a stop requested on
any task stops all of them at the same step: the runtime agrees on it with a collective op
after each loop, where tf.estimator's chief wrote a stop variable the workers polled. The
evaluator task then takes the chief's last checkpoint as the final one.
"""

from __future__ import annotations

import logging
import math
import operator
import os
import time
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from keras_estimator import summaries
from keras_estimator.estimator import Estimator
from keras_estimator.hooks import Hook, RunContext
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.validation import check_int, check_number

logger = logging.getLogger("keras_estimator")

_EVENT_FILES = "events.out.tfevents.*"


def read_eval_metrics(eval_dir: str | os.PathLike) -> dict[int, dict[str, float]]:
    """Reads the scalar summaries of an evaluation directory.

    Args:
        eval_dir: A directory of TensorBoard event files, e.g. `model_dir/eval` or
            `model_dir/eval_<name>`. Scalars written by `tf.summary.scalar` (this runtime) and
            v1 `simple_value` scalars (tf.estimator) are read; other summaries are skipped.

    Returns:
        `{global step: {tag: value}}` sorted by step; `{}` if the directory does not exist. When
        a step was evaluated more than once, the value written last wins, tag by tag.
    """
    eval_dir = os.fspath(eval_dir)
    if not tf.io.gfile.isdir(eval_dir):
        return {}
    written: list[tuple[float, int, int, int, str, float]] = []
    for file_index, path in enumerate(sorted(tf.io.gfile.glob(os.path.join(eval_dir, _EVENT_FILES)))):
        for event_index, event in enumerate(_events(path)):
            for value in event.summary.value:
                scalar = _scalar(value)
                if scalar is not None:
                    written.append((event.wall_time, file_index, event_index, event.step, value.tag, scalar))
    metrics: dict[int, dict[str, float]] = {}
    # Write time orders re-evaluations of a step across files; file names break ties.
    for _, _, _, step, tag, scalar in sorted(written, key=lambda w: w[:3]):
        metrics.setdefault(int(step), {})[tag] = scalar
    return dict(sorted(metrics.items()))


def _events(path: str):
    # TFRecordDataset rather than summary_iterator, which logs a deprecation warning.
    try:
        for record in tf.data.TFRecordDataset(path):
            yield tf.compat.v1.Event.FromString(record.numpy())
    except tf.errors.DataLossError as e:
        # A file still being written may end in a partial record: keep what was read.
        logger.warning("Skipping the rest of event file %s: %s", path, e)


def _scalar(value) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return float(value.simple_value)
    if kind == "tensor":
        array = tf.make_ndarray(value.tensor)
        if array.ndim == 0 and (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            return float(array)
    return None


class EarlyStoppingHook(Hook):
    """Requests a stop of training when `should_stop_fn()` returns True.

    Use `make_early_stopping_hook` or the `stop_if_*` functions to create one. Checks run once
    in `begin` (so a run resumed after an early stop trains no further) and then at the chosen
    cadence.

    Attributes:
        stopped_at_step: The global step at which this hook requested the stop in the latest
            `train` call, or None. Training ends there and saves a checkpoint at that step.
        stop_reason: What the condition reported when it stopped (None for a plain bool).
    """

    def __init__(self, should_stop_fn: Callable[[], Any], run_every_secs: float | None = 60,
                 run_every_steps: int | None = None):
        if not callable(should_stop_fn):
            raise ValueError(f"should_stop_fn must be callable, got {type(should_stop_fn).__name__}.")
        _check_cadence(run_every_secs, run_every_steps)
        self._should_stop_fn = should_stop_fn
        self._every_secs = run_every_secs
        self._every_steps = run_every_steps
        self._next_check: int | None = None
        self._last_check = 0.0
        self.stopped_at_step: int | None = None
        self.stop_reason: str | None = None

    def begin(self, context: RunContext) -> None:
        if context.mode != ModeKeys.TRAIN:
            raise ValueError(
                "Early-stopping hooks stop training: pass them to Estimator.train or TrainSpec "
                f"hooks, not to mode {context.mode!r}."
            )
        self.stopped_at_step = None
        self.stop_reason = None
        self._check(context)

    def next_step(self, global_step: int) -> int | None:
        # With run_every_steps the training loop ends at each multiple, so the check is exact.
        return self._next_check if self._every_steps is not None else None

    def after_run(self, context: RunContext) -> None:
        if context.stop_requested:
            return
        if self._every_steps is not None:
            if context.global_step >= self._next_check:
                self._check(context)
        elif time.monotonic() - self._last_check >= self._every_secs:
            self._check(context)

    def _check(self, context: RunContext) -> None:
        step = context.global_step
        self._last_check = time.monotonic()
        if self._every_steps is not None:
            self._next_check = (step // self._every_steps + 1) * self._every_steps
        result = self._should_stop_fn()
        if not result:
            return
        self.stopped_at_step = step
        self.stop_reason = result if isinstance(result, str) else None
        if self.stop_reason:
            logger.info("Early stopping at global step %d: %s.", step, self.stop_reason)
        else:
            logger.info("Early stopping at global step %d: should_stop_fn returned True.", step)
        context.request_stop()


def make_early_stopping_hook(estimator: Estimator, should_stop_fn: Callable[[], Any],
                             run_every_secs: float | None = 60,
                             run_every_steps: int | None = None) -> EarlyStoppingHook:
    """A training hook that stops training when `should_stop_fn()` returns True.

    Args:
        estimator: The `Estimator` being trained.
        should_stop_fn: Takes no arguments; returns True to stop. A non-empty string also
            stops and is logged as the reason.
        run_every_secs: Call should_stop_fn at most every this many seconds. The clock is read
            when a training loop ends, so the calls are at most every
            `RunConfig.steps_per_loop` steps (loops end sooner at checkpoint, summary and log
            steps and at other hooks' steps).
        run_every_steps: Instead call should_stop_fn at every multiple of this global step
            (pass run_every_secs=None).

    Returns:
        An `EarlyStoppingHook` for `Estimator.train(hooks=...)` or `TrainSpec(hooks=...)`.

    Raises:
        ValueError: if estimator is not an Estimator, should_stop_fn is not callable, both or
            neither of run_every_secs and run_every_steps are set, or the one set is not
            positive.
    """
    _check_estimator(estimator)
    return EarlyStoppingHook(should_stop_fn, run_every_secs, run_every_steps)


def stop_if_higher_hook(estimator: Estimator, metric_name: str, threshold: float,
                        eval_dir: str | os.PathLike | None = None, min_steps: int = 0,
                        run_every_secs: float | None = 60, run_every_steps: int | None = None) -> EarlyStoppingHook:
    """Stops training once an evaluation at step >= min_steps has `metric_name` > threshold.

    Args:
        estimator: The `Estimator` being trained; its eval directory is the default eval_dir.
        metric_name: An evaluation result to watch: "loss" or an `eval_metric_ops` name.
        threshold: The value the metric must exceed.
        eval_dir: Directory of the evaluation summaries (default `model_dir/eval`; pass
            `model_dir/eval_<name>` for `EvalSpec(name=...)`).
        min_steps: Evaluations at global steps below this are ignored, so no stop is
            requested before it.
        run_every_secs, run_every_steps: How often to read the results, as for
            `make_early_stopping_hook` (exactly one must be set).

    Returns:
        An `EarlyStoppingHook`.

    Raises:
        ValueError: for invalid arguments (as for `make_early_stopping_hook`, plus an empty
            metric_name, a non-numeric threshold or a negative min_steps). During training:
            if an evaluation at step >= min_steps lacks metric_name (the message lists the
            metrics it has).
    """
    condition = _MetricCondition(estimator, metric_name, eval_dir, min_steps)
    return condition.hook(_crossing(threshold, operator.gt, "higher"), run_every_secs, run_every_steps)


def stop_if_lower_hook(estimator: Estimator, metric_name: str, threshold: float,
                       eval_dir: str | os.PathLike | None = None, min_steps: int = 0,
                       run_every_secs: float | None = 60, run_every_steps: int | None = None) -> EarlyStoppingHook:
    """Stops training once an evaluation at step >= min_steps has `metric_name` < threshold.

    Arguments, return value and errors as for `stop_if_higher_hook`.
    """
    condition = _MetricCondition(estimator, metric_name, eval_dir, min_steps)
    return condition.hook(_crossing(threshold, operator.lt, "lower"), run_every_secs, run_every_steps)


def stop_if_no_increase_hook(estimator: Estimator, metric_name: str, max_steps_without_increase: int,
                             eval_dir: str | os.PathLike | None = None, min_steps: int = 0,
                             run_every_secs: float | None = 60,
                             run_every_steps: int | None = None) -> EarlyStoppingHook:
    """Stops training when `metric_name` has not increased for max_steps_without_increase steps.

    Counted in global steps from the evaluation with the highest value (the earliest, on ties)
    to a later evaluation, among evaluations at steps >= min_steps.

    Args:
        max_steps_without_increase: Positive number of global steps.
        Others: as for `stop_if_higher_hook`.

    Returns:
        An `EarlyStoppingHook`.

    Raises:
        ValueError: as for `stop_if_higher_hook`, and for max_steps_without_increase <= 0.
    """
    condition = _MetricCondition(estimator, metric_name, eval_dir, min_steps)
    rule = _no_improvement(max_steps_without_increase, operator.gt, "increase")
    return condition.hook(rule, run_every_secs, run_every_steps)


def stop_if_no_decrease_hook(estimator: Estimator, metric_name: str, max_steps_without_decrease: int,
                             eval_dir: str | os.PathLike | None = None, min_steps: int = 0,
                             run_every_secs: float | None = 60,
                             run_every_steps: int | None = None) -> EarlyStoppingHook:
    """Stops training when `metric_name` has not decreased for max_steps_without_decrease steps.

    As `stop_if_no_increase_hook`, counted from the evaluation with the lowest value.
    """
    condition = _MetricCondition(estimator, metric_name, eval_dir, min_steps)
    rule = _no_improvement(max_steps_without_decrease, operator.lt, "decrease")
    return condition.hook(rule, run_every_secs, run_every_steps)


Rule = Callable[[str, list[tuple[int, float]]], "str | None"]


class _MetricCondition:
    """The should_stop_fn of the `stop_if_*` hooks: reads `metric_name` from the evaluations in
    eval_dir at steps >= min_steps (checking the arguments the four hooks share) and asks a
    `Rule`, `rule(metric_name, [(step, value)] by step)`, for a reason to stop (or None)."""

    def __init__(self, estimator, metric_name, eval_dir, min_steps):
        _check_estimator(estimator)
        if not isinstance(metric_name, str) or not metric_name:
            raise ValueError(f"metric_name must be a non-empty string, got {metric_name!r}.")
        check_int("min_steps", min_steps, 0)
        if eval_dir is None:
            eval_dir = summaries.eval_dir(estimator.model_dir)  # tf.estimator's default.
        elif not isinstance(eval_dir, (str, os.PathLike)):
            raise ValueError(f"eval_dir must be a path, got {type(eval_dir).__name__}.")
        self.eval_dir = os.fspath(eval_dir)
        self.metric_name = metric_name
        self.min_steps = min_steps

    def values(self) -> list[tuple[int, float]]:
        """(step, value) of each evaluation at steps >= min_steps, by step."""
        values = []
        for step, metrics in read_eval_metrics(self.eval_dir).items():
            if step < self.min_steps:
                continue
            if self.metric_name not in metrics:
                raise ValueError(
                    f"Early stopping: metric {self.metric_name!r} is not in the evaluation results at "
                    f"step {step} in {self.eval_dir}; available metrics: {', '.join(sorted(metrics))}."
                )
            values.append((step, metrics[self.metric_name]))
        return values

    def hook(self, rule: Rule, run_every_secs, run_every_steps) -> EarlyStoppingHook:
        """An `EarlyStoppingHook` that applies `rule` to the metric at the chosen cadence."""
        return EarlyStoppingHook(lambda: rule(self.metric_name, self.values()), run_every_secs, run_every_steps)


def _crossing(threshold: float, crosses: Callable[[float, float], bool], word: str) -> Rule:
    """Stop at the first evaluation whose value `crosses` the threshold (is higher / lower)."""
    check_number("threshold", threshold, minimum=-math.inf, what="a number")

    def rule(metric_name: str, values: list[tuple[int, float]]) -> str | None:
        for step, value in values:
            if crosses(value, threshold):
                return (f"eval metric {metric_name!r} = {value:.6g} at step {step} is {word} than "
                        f"the threshold {threshold}")
        return None

    return rule


def _no_improvement(max_steps: int, better: Callable[[float, float], bool], word: str) -> Rule:
    """Stop at an evaluation max_steps or more after the best value (the earliest, on ties)."""
    check_int(f"max_steps_without_{word}", max_steps, 1)

    def rule(metric_name: str, values: list[tuple[int, float]]) -> str | None:
        best = best_step = None
        for step, value in values:
            # A NaN is never the best value; it only counts as no improvement.
            if not math.isnan(value) and (best is None or better(value, best)):
                best, best_step = value, step
            if best_step is not None and step - best_step >= max_steps:
                return (f"eval metric {metric_name!r} = {value:.6g} at step {step}: no {word} for "
                        f"{step - best_step} steps since {best:.6g} at step {best_step} "
                        f"(max_steps_without_{word}={max_steps})")
        return None

    return rule


def _check_estimator(estimator) -> None:
    if not isinstance(estimator, Estimator):
        raise ValueError(f"estimator must be a keras_estimator.Estimator, got {type(estimator).__name__}.")


def _check_cadence(run_every_secs, run_every_steps) -> None:
    if (run_every_secs is None) == (run_every_steps is None):
        raise ValueError(
            "Exactly one of run_every_secs and run_every_steps must be set, got "
            f"run_every_secs={run_every_secs!r} and run_every_steps={run_every_steps!r} "
            "(to use run_every_steps, pass run_every_secs=None)."
        )
    if run_every_steps is not None:
        check_int("run_every_steps", run_every_steps, 1)
    else:
        check_number("run_every_secs", run_every_secs, strict=True, finite=True, what="a positive number")
