"""tf.estimator.experimental: evaluation during training, early stopping, worker stop hooks.

- `InMemoryEvaluatorHook`: evaluates while `train` runs, every `every_n_iter` steps.
- `make_stop_at_checkpoint_step_hook`: the chief stops at `last_step`; other workers when the
  chief's checkpoint has reached it.
- `make_early_stopping_hook`, `stop_if_higher_hook`, `stop_if_lower_hook`,
  `stop_if_no_increase_hook`, `stop_if_no_decrease_hook`: from `keras_estimator.early_stopping`.

**What InMemoryEvaluatorHook evaluates.** tf.estimator's hook copied the training session's
variables into an evaluation graph. Training here runs inside compiled loops and a hook sees
no variables, so the hook evaluates the *checkpoint* training saves: when a trigger step is
reached (every `every_n_iter` steps of the `train` call), it evaluates the first checkpoint
saved at or after that step, as soon as it is written (before the next loop of steps). With
`RunConfig(save_checkpoints_steps=k)` and `every_n_iter` a multiple of k, that is the
checkpoint of the trigger step itself: the weights of that step, exactly. With other
cadences (the default saves every 600 seconds), evaluations follow the checkpoints, and a
warning says so. Like tf.estimator, it also evaluates when `train` begins on a checkpoint
(a resumed model) and at the end, when the last step's checkpoint is already written (a
step of the save cadence); `train` writes its final checkpoint after the hooks' `end`, so
otherwise the final weights are evaluated only by a later `evaluate` call, and a warning
says so. Results go to `model_dir/eval` (or `eval_<name>`), where the `stop_if_*` hooks
read them, and to `hook.results`.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from keras_estimator import checkpoints as ckpt_lib
from keras_estimator.early_stopping import (
    make_early_stopping_hook,
    stop_if_higher_hook,
    stop_if_lower_hook,
    stop_if_no_decrease_hook,
    stop_if_no_increase_hook,
)
from keras_estimator.estimator import Estimator
from keras_estimator.hooks import Hook, RunContext, StopAtStepHook
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.summaries import eval_dir
from keras_estimator.timers import SecondOrStepTimer
from keras_estimator.validation import check_instances, check_int, check_number, check_steps, is_int

logger = logging.getLogger("keras_estimator")

__all__ = [
    "InMemoryEvaluatorHook",
    "StopAtCheckpointStepHook",
    "make_early_stopping_hook",
    "make_stop_at_checkpoint_step_hook",
    "stop_if_higher_hook",
    "stop_if_lower_hook",
    "stop_if_no_decrease_hook",
    "stop_if_no_increase_hook",
]


class InMemoryEvaluatorHook(Hook):
    """Evaluates the model every `every_n_iter` training steps of a `train` call.

    See the module docstring for which checkpoint each evaluation reads.

    Args:
        estimator: The `Estimator` being trained (its model_fn, params and config evaluate).
        input_fn: The evaluation input_fn, as for `Estimator.evaluate`.
        steps: Evaluate at most this many batches (None: until input_fn's data end).
        hooks: `Hook`s for each evaluation.
        name: Evaluate into `model_dir/eval_<name>` instead of `model_dir/eval`.
        every_n_iter: Evaluate every this many training steps of the call.

    Attributes:
        results: `{global step: evaluate() result}` of the evaluations run so far.

    Raises:
        ValueError: if every_n_iter is not a positive integer, the estimator runs in a
            cluster (tf.estimator's hook was local only), or steps, hooks or name is invalid.
    """

    def __init__(self, estimator: Estimator, input_fn: Callable[..., Any], steps: int | None = None,
                 hooks: list[Hook] | None = None, name: str | None = None, every_n_iter: int = 100):
        _check_estimator(estimator)
        if not is_int(every_n_iter) or every_n_iter <= 0:
            raise ValueError(f"invalid every_n_iter={every_n_iter}.")
        config = estimator.config
        if config.num_ps_replicas > 0 or config.num_worker_replicas > 1:
            raise ValueError("InMemoryEvaluator supports only single machine (aka Local) setting.")
        check_steps("steps", steps)
        eval_dir(estimator.model_dir, name)  # Checks the name.
        self._estimator = estimator
        self._input_fn = input_fn
        self._steps = steps
        self._hooks = check_instances(hooks, Hook, "hooks")
        self._name = name
        self._every_n_iter = every_n_iter
        self._timer = SecondOrStepTimer(every_steps=every_n_iter)
        self._evaluator: Estimator | None = None
        self._start = 0
        self._pending: int | None = None  # The trigger step waiting for its checkpoint.
        self._evaluated: int | None = None  # The step of the last checkpoint evaluated.
        self.results: dict[int, dict[str, Any]] = {}
        every = config.save_checkpoints_steps
        if every is None or every_n_iter % every:
            logger.warning(
                "InMemoryEvaluatorHook evaluates checkpoints: with save_checkpoints_steps=%s, not a "
                "divisor of every_n_iter=%d, each evaluation reads the first checkpoint saved after "
                "its step. Set RunConfig(save_checkpoints_steps=...) to a divisor of every_n_iter to "
                "evaluate exactly every every_n_iter steps.", every, every_n_iter,
            )

    def begin(self, context: RunContext) -> None:
        if context.mode != ModeKeys.TRAIN:
            raise ValueError(f"InMemoryEvaluatorHook runs during training, not in mode {context.mode!r}.")
        self._timer.reset()
        self._start, self._pending = context.global_step, None
        self._timer.update_last_triggered_step(0)
        self._evaluate_checkpoint_at_or_after(context.global_step)  # A resumed model's weights.

    def next_step(self, global_step: int) -> int | None:
        # Runs before each loop of steps, after the previous loop's checkpoint was saved.
        if self._pending is not None:
            self._evaluate_checkpoint_at_or_after(self._pending)
        return self._start + self._timer.last_triggered_step() + self._every_n_iter

    def after_run(self, context: RunContext) -> None:
        iteration = context.global_step - self._start
        if self._timer.should_trigger_for_step(iteration):
            self._timer.update_last_triggered_step(iteration)
            if self._pending is None:
                self._pending = context.global_step

    def end(self, context: RunContext) -> None:
        if self._evaluate_checkpoint_at_or_after(context.global_step):
            return
        logger.warning(
            "InMemoryEvaluatorHook: the final weights (step %d) are not evaluated: train saves their "
            "checkpoint after the hooks end. Call estimator.evaluate after train, or end training on "
            "a step of save_checkpoints_steps.", context.global_step,
        )

    def _evaluate_checkpoint_at_or_after(self, step: int) -> bool:
        """Evaluates the latest checkpoint if it is at `step` or later and not yet evaluated;
        True if that checkpoint is (now) evaluated."""
        path = ckpt_lib.latest_checkpoint(self._estimator.model_dir)
        checkpoint_step = ckpt_lib.step_of(path) if path is not None else None
        if checkpoint_step is None or checkpoint_step < step:
            return False
        if checkpoint_step != self._evaluated:
            self.results[checkpoint_step] = self._evaluator_estimator().evaluate(
                self._input_fn, steps=self._steps, hooks=self._hooks, checkpoint_path=path, name=self._name)
            self._evaluated = checkpoint_step
            logger.info("InMemoryEvaluatorHook evaluated step %d: %s", checkpoint_step, self.results[checkpoint_step])
        self._pending = None
        return True

    def _evaluator_estimator(self) -> Estimator:
        """A second Estimator on the same model_fn, params, config and model_dir: its own
        variables, so evaluating never touches the weights being trained."""
        if self._evaluator is None:
            est = self._estimator
            self._evaluator = Estimator(est.model_fn, model_dir=est.model_dir, config=est.config,
                                        params=est.params)
        return self._evaluator


class StopAtCheckpointStepHook(Hook):
    """A worker's stop: once its global step reaches `last_step`, it stops when the chief's
    latest checkpoint in model_dir has reached `last_step`, and otherwise sleeps
    `wait_after_file_check_secs` before it checks again after the next step.

    Use `make_stop_at_checkpoint_step_hook`, which gives the chief a `StopAtStepHook`. In a
    synchronous multi-worker cluster every task also stops when the chief does (the stop
    agreement after each loop), so a worker at most waits once.

    Raises:
        ValueError: if last_step is not a non-negative integer or the wait is negative.
    """

    def __init__(self, estimator: Estimator, last_step: int, wait_after_file_check_secs: float = 30):
        if last_step is None:
            raise ValueError("last_step must be specified.")
        check_int("last_step", last_step, 0)
        check_number("wait_after_file_check_secs", wait_after_file_check_secs)
        self._estimator = estimator
        self._last_step = last_step
        self._wait = wait_after_file_check_secs

    def next_step(self, global_step: int) -> int | None:
        return max(self._last_step, global_step + 1)

    def after_run(self, context: RunContext) -> None:
        if context.global_step < self._last_step:
            return
        path = ckpt_lib.latest_checkpoint(self._estimator.model_dir)
        if path is not None and ckpt_lib.step_of(path) >= self._last_step:
            context.request_stop()
        else:
            time.sleep(self._wait)


def make_stop_at_checkpoint_step_hook(estimator: Estimator, last_step: int,
                                      wait_after_file_check_secs: float = 30) -> Hook:
    """The hook that stops training at `last_step` on every task of a cluster.

    Args:
        estimator: The `Estimator` being trained.
        last_step: The global step to stop at.
        wait_after_file_check_secs: On workers, the sleep after each check of the chief's
            checkpoint that has not reached last_step (throttles reads of the shared file).

    Returns:
        On the chief (and without a cluster), a `StopAtStepHook(last_step=last_step)`; on other
        tasks a `StopAtCheckpointStepHook`.

    Raises:
        ValueError: for an estimator that is not an Estimator, or an invalid last_step or wait.
    """
    _check_estimator(estimator)
    if estimator.config.is_chief:
        return StopAtStepHook(last_step=last_step)
    return StopAtCheckpointStepHook(estimator, last_step, wait_after_file_check_secs)


def _check_estimator(estimator: Any) -> None:
    if not isinstance(estimator, Estimator):
        raise ValueError(f"estimator must be a keras_estimator.Estimator, got {type(estimator).__name__}.")
