"""The outer training loop: *when* to log, summarize, call hooks and save; the compiled loop
(`steps`) decides *what* a loop of steps does.

Each compiled call runs up to `steps_per_loop` steps and always ends at the next step some
cadence needs (checkpoint, summary, log), a hook asks for (`Hook.next_step`), or `last_step`,
so hooks and saves see exactly the steps they asked for, whatever the loop size.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import tensorflow as tf

from keras_estimator.errors import ClusterTaskFailedError, InputError, NanLossDuringTrainingError, first_line
from keras_estimator.hook_list import HookList
from keras_estimator.hooks import RunContext
from keras_estimator.model import Model
from keras_estimator.peer_health import PeerWatchdog, peers_of
from keras_estimator.run_config import RunConfig
from keras_estimator.saver import CheckpointSaver
from keras_estimator.steps import CompiledSteps
from keras_estimator.summaries import SummaryWriter

logger = logging.getLogger("keras_estimator")

_PEER_LOST = (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.AbortedError)


class _Rate:
    """Steps per second since the last time a cadence fired."""

    def __init__(self, step: int):
        self._time, self._step = time.time(), step

    def tick(self, step: int) -> tuple[float, float]:
        """(seconds, steps/s) since the last tick; restarts the count."""
        now = time.time()
        elapsed = now - self._time
        rate = (step - self._step) / max(elapsed, 1e-9)
        self._time, self._step = now, step
        return elapsed, rate


class TrainLoop:
    """Runs one `train` call's steps from `start_step` to `last_step` (None: the data end).

    Args:
        model: The prepared (built and restored) `Model`.
        steps: Its `CompiledSteps`.
        hooks: The call's `HookList`.
        saver: The call's `CheckpointSaver`.
    """

    def __init__(self, model: Model, steps: CompiledSteps, hooks: HookList, saver: CheckpointSaver):
        self._model = model
        self._steps = steps
        self._config: RunConfig = model.config
        self._hooks = hooks
        self._saver = saver
        # Only the chief writes summaries; other tasks of a cluster write nothing.
        self._summaries = SummaryWriter(self._config.model_dir if self._config.is_chief else None)

    def run(self, dataset: Any, context: RunContext) -> dict[str, Any]:
        """Trains to `context.last_step` (None: the data end or a stop); returns
        `{"global_step", "loss"}` where training ended.

        Raises:
            NanLossDuringTrainingError: for a NaN/Inf loss or weight (that step is not saved).
            InputError: for a dataset with no batch at all.
            ClusterTaskFailedError: if a task of a multi-worker cluster stopped responding.
        """
        self._hooks.begin(context)
        self._saver.begin()
        # In a multi-worker cluster, a dead peer ends this task with a clear error, not a hang.
        watchdog = PeerWatchdog(
            peers_of(self._model.strategy, self._config),
            "cluster task {task} stopped responding; training stopped. Restart every task: "
            f"training resumes from the chief's last checkpoint in {self._config.model_dir}.",
        )
        try:
            with watchdog:
                return self._loop(iter(dataset), context, context.last_step)
        except _PEER_LOST as e:
            if not watchdog.peers:
                raise
            # TensorFlow noticed first (a collective op lost its peer): say so plainly.
            step = int(self._model.global_step.numpy())
            raise ClusterTaskFailedError(step, self._config.model_dir, first_line(e)) from e
        finally:
            self._summaries.close()  # Also on errors: flush the summaries already written.
            self._saver.close()

    def _loop(self, iterator: Any, context: RunContext, last_step: int | None) -> dict[str, Any]:
        step, loss = context.global_step, None
        log_rate, summary_rate = _Rate(step), _Rate(step)
        self._agree_to_stop(context)  # A hook's begin may have stopped training on one task.
        while (last_step is None or step < last_step) and not context.stop_requested:
            size = self._loop_size(step, last_step)
            ran, loop_loss, bad = self._run(iterator, size, tuple(self._hooks.fetches(step + size)))
            step += ran
            context.steps_in_call += ran
            if bool(bad):
                raise NanLossDuringTrainingError(step=step, loss=float(loop_loss))
            if ran == 0 and context.steps_in_call == 0:
                raise InputError("input_fn for mode 'train' returned an empty dataset: no batch to train on.")
            if ran:
                loss = float(loop_loss)
                self._after_loop(context, step, loss, log_rate, summary_rate)
            if ran == size:
                self._agree_to_stop(context)
            if ran < size or context.stop_requested:
                break
        self._hooks.end(context)
        self._saver.end(step)
        if loss is not None:
            logger.info("Loss for final step: %.6g.", loss)
        return {"global_step": step, "loss": loss}

    def _run(self, iterator: Any, size: int, fetch: tuple[str, ...]) -> tuple[int, Any, bool]:
        """Up to `size` steps: (steps run, last loss, NaN/Inf met). With tensors to `fetch`,
        the last step runs apart and hands their values to the hooks that asked."""
        first = size - 1 if fetch else size
        ran, loss, bad = 0, tf.constant(0.0), False
        if first:
            ran, loss, bad, _ = self._steps.train(iterator, tf.constant(first, tf.int64))
            ran, bad = int(ran), bool(bad)
        if not fetch or bad or ran < first:
            return ran, loss, bad
        element = iterator.get_next_as_optional()
        if not element.has_value():
            return ran, loss, bad
        loss, bad, values = self._steps.fetching(fetch)(element.get_value())
        self._hooks.deliver({name: value.numpy() for name, value in zip(fetch, values)})
        return ran + (0 if bool(bad) else 1), loss, bool(bad)

    def _after_loop(self, context: RunContext, step: int, loss: float, log_rate: _Rate,
                    summary_rate: _Rate) -> None:
        config = self._config
        context.global_step, context.loss = step, loss
        if config.log_step_count_steps and step % config.log_step_count_steps == 0:
            elapsed, rate = log_rate.tick(step)
            logger.info("loss = %.6g, step = %d (%.3f sec)", loss, step, elapsed)
            logger.info("global_step/sec: %.4g", rate)
        if config.save_summary_steps and step % config.save_summary_steps == 0:
            self._summaries.scalar("loss", loss, step)
            self._summaries.scalar("global_step/sec", summary_rate.tick(step)[1], step)
        # The step's checkpoint first, as tf.estimator's CheckpointSaverHook ran before the
        # program's hooks: a hook that raises in after_run leaves this step resumable.
        stop = self._saver.due(step) and self._saver.save(step)
        self._hooks.after_run(context)
        requested, context.checkpoint_requested = context.checkpoint_requested, False
        if (requested and self._saver.save(step)) or stop:
            context.request_stop()

    def _loop_size(self, step: int, last_step: int | None) -> int:
        config = self._config
        targets = [step + config.steps_per_loop]
        if last_step is not None:
            targets.append(last_step)
        for every in (config.save_checkpoints_steps, config.save_summary_steps, config.log_step_count_steps):
            if every:
                targets.append((step // every + 1) * every)
        wanted = self._hooks.next_step(step)
        if wanted is not None:
            targets.append(wanted)
        return min(targets) - step

    def _agree_to_stop(self, context: RunContext) -> None:
        """In a multi-worker cluster, stops every task if any task requested a stop."""
        agree: Callable | None = self._steps.agree_on_stop
        if agree is None:
            return
        if int(agree(tf.constant(int(context.stop_requested)))) and not context.stop_requested:
            logger.info("Another task of the cluster stopped training at step %d.", context.global_step)
            context.request_stop()
