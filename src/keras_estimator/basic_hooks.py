"""tf.estimator's standard hooks, as `Hook`s that ask only for the steps they act on.

`LoggingTensorHook`, `StepCounterHook`, `SummarySaverHook`, `CheckpointSaverHook`,
`ProfilerHook`, `NanTensorHook`, `FinalOpsHook` take tf.estimator's arguments. Tensors are
fetched from the step a hook acts on only (see `Hook.fetches`); the steps in between run in the
compiled loop at full speed. Time-based cadences (`every_n_secs`, `save_secs`) act at the end of
the first loop after the time passed, so at most `RunConfig.steps_per_loop` steps late.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from keras_estimator.errors import NanLossDuringTrainingError
from keras_estimator.hooks import Hook, RunContext
from keras_estimator.session_run_hook import fetch_names
from keras_estimator.summaries import SummaryWriter
from keras_estimator.timers import SecondOrStepTimer

logger = logging.getLogger("keras_estimator")


class _Cadence(Hook):
    """Acts at the first step of the call and then every `every_steps` steps (or after
    `every_secs` seconds), as tf.estimator's timers did."""

    def __init__(self, every_steps: int | None, every_secs: float | None):
        self._timer = SecondOrStepTimer(every_secs=every_secs, every_steps=every_steps)
        self._every_steps = every_steps
        self._start = 0

    def begin(self, context: RunContext) -> None:
        self._timer.reset()
        self._start = context.global_step

    def next_step(self, global_step: int) -> int | None:
        if self._every_steps is None:
            return None  # Time-based: at the end of whatever loop comes next.
        last = self._timer.last_triggered_step()
        return self._start + 1 if last is None else last + self._every_steps

    def due(self, global_step: int) -> bool:
        return self._timer.should_trigger_for_step(global_step)

    def acted(self, global_step: int) -> tuple[float | None, int | None]:
        return self._timer.update_last_triggered_step(global_step)


class LoggingTensorHook(_Cadence):
    """Logs the values of `tensors` every N steps or seconds, or only at the end.

    Args:
        tensors: A dict of tag -> tensor (created in model_fn, for an EstimatorSpec's hooks)
            or tensor name, or a list of them (tagged by name).
        every_n_iter, every_n_secs: The cadence; exactly one, unless `at_end`.
        at_end: Also (or only) log the last step's values at the end.
        formatter: `dict of tag -> numpy value -> str`; default `tag = value, ...`.

    Raises:
        ValueError: for neither or both cadences (without at_end), or an empty `tensors`.
    """

    def __init__(self, tensors: Any, every_n_iter: int | None = None, every_n_secs: float | None = None,
                 at_end: bool = False, formatter: Callable[[dict], str] | None = None):
        only_at_end = at_end and every_n_iter is None and every_n_secs is None
        if not only_at_end and (every_n_iter is None) == (every_n_secs is None):
            raise ValueError("Either every_n_iter or every_n_secs should be provided (exactly one).")
        if not tensors:
            raise ValueError("LoggingTensorHook needs at least one tensor to log.")
        super().__init__(every_n_iter if not only_at_end else None, every_n_secs if not only_at_end else 1e12)
        items = tensors.items() if isinstance(tensors, dict) else [(t if isinstance(t, str) else t.name, t) for t in tensors]
        self._tags = [tag for tag, _ in items]
        self._names = fetch_names([t for _, t in items])
        self._at_end, self._formatter = at_end, formatter
        self._last: dict | None = None
        self._only_at_end = only_at_end

    def next_step(self, global_step: int) -> int | None:
        return None if self._only_at_end else super().next_step(global_step)

    def fetches(self, global_step: int) -> list[str] | None:
        wanted = (not self._only_at_end and self.due(global_step)) or (self._at_end and global_step == self._end)
        return self._names if wanted else None

    def begin(self, context: RunContext) -> None:
        super().begin(context)
        self._end = context.last_step

    def after_run(self, context: RunContext) -> None:
        if context.fetched is None:
            return
        values = dict(zip(self._tags, context.fetched))
        self._last = values
        if not self._only_at_end and self.due(context.global_step):
            elapsed, _ = self.acted(context.global_step)
            self._log(values, elapsed)

    def end(self, context: RunContext) -> None:
        if self._at_end and self._last is not None:
            self._log(self._last, None)

    def _log(self, values: dict, elapsed: float | None) -> None:
        text = self._formatter(values) if self._formatter else ", ".join(
            f"{tag} = {np.array2string(np.asarray(v), threshold=20)}" for tag, v in values.items())
        logger.info("%s (%.3f sec)" % (text, elapsed) if elapsed is not None else text)


class StepCounterHook(_Cadence):
    """Logs and writes `global_step/sec` every N steps or seconds.

    Args:
        every_n_steps, every_n_secs: The cadence (default every 100 steps).
        output_dir: Where the summaries go (default: model_dir); `summary_writer` is ignored.
    """

    def __init__(self, every_n_steps: int | None = 100, every_n_secs: float | None = None,
                 output_dir: str | None = None, summary_writer: Any = None):
        super().__init__(every_n_steps if every_n_secs is None else None, every_n_secs)
        self._output_dir = output_dir
        self._writer: SummaryWriter | None = None

    def begin(self, context: RunContext) -> None:
        super().begin(context)
        self._writer = SummaryWriter(self._output_dir or getattr(context.estimator, "model_dir", None))

    def after_run(self, context: RunContext) -> None:
        if not self.due(context.global_step):
            return
        elapsed, steps = self.acted(context.global_step)
        if elapsed:
            rate = steps / elapsed
            logger.info("global_step/sec: %.4g", rate)
            self._writer.scalar("global_step/sec", rate, context.global_step)

    def end(self, context: RunContext) -> None:
        if self._writer is not None:
            self._writer.close()


class SummarySaverHook(_Cadence):
    """Writes the scalars of `summary_op` (tf.compat.v1.summary ops model_fn created, or their
    names) every N steps or seconds to `output_dir` (default: model_dir). Histograms and images
    in it are skipped; `tf.summary` calls in model_fn need no hook.

    Raises:
        ValueError: without `summary_op` (there is no graph to merge summaries from).
    """

    def __init__(self, save_steps: int | None = None, save_secs: float | None = None,
                 output_dir: str | None = None, summary_writer: Any = None, scaffold: Any = None,
                 summary_op: Any = None):
        if summary_op is None:
            raise ValueError("SummarySaverHook needs summary_op (e.g. tf.compat.v1.summary.merge_all() in model_fn).")
        super().__init__(save_steps, save_secs)
        self._names = fetch_names(summary_op)
        self._output_dir = output_dir
        self._writer: SummaryWriter | None = None

    def begin(self, context: RunContext) -> None:
        super().begin(context)
        self._writer = SummaryWriter(self._output_dir or getattr(context.estimator, "model_dir", None))

    def fetches(self, global_step: int) -> list[str] | None:
        return self._names if self.due(global_step) else None

    def after_run(self, context: RunContext) -> None:
        if context.fetched is None:
            return
        self.acted(context.global_step)
        for serialized in context.fetched:
            for value in tf.compat.v1.Summary.FromString(bytes(serialized)).value:
                if value.HasField("simple_value"):
                    self._writer.scalar(value.tag, value.simple_value, context.global_step)

    def end(self, context: RunContext) -> None:
        if self._writer is not None:
            self._writer.close()


class CheckpointSaverHook(_Cadence):
    """Saves checkpoints every N steps or seconds, besides RunConfig's cadence.

    Checkpoints always go to model_dir, written by the Estimator (crash-safe, listed in its
    `checkpoint` file); `saver`, `checkpoint_basename`, `scaffold` and `save_graph_def` are
    accepted and not used. Listeners belong in `train(saving_listeners=...)`.

    Raises:
        ValueError: for neither or both of save_steps and save_secs, or listeners given.
    """

    def __init__(self, checkpoint_dir: str, save_secs: float | None = None, save_steps: int | None = None,
                 saver: Any = None, checkpoint_basename: str = "model.ckpt", scaffold: Any = None,
                 listeners: Any = None, save_graph_def: bool = True):
        if listeners:
            raise ValueError("CheckpointSaverHook listeners: pass them as train(saving_listeners=...).")
        super().__init__(save_steps, save_secs)
        self._dir = os.fspath(checkpoint_dir)

    def begin(self, context: RunContext) -> None:
        super().begin(context)
        self.acted(context.global_step)  # As tf.estimator: the start counts as a save; then every N.
        model_dir = getattr(context.estimator, "model_dir", self._dir)
        if os.path.abspath(self._dir) != os.path.abspath(model_dir):
            logger.warning("CheckpointSaverHook: checkpoints go to model_dir %s, not %s.", model_dir, self._dir)

    def after_run(self, context: RunContext) -> None:
        if self.due(context.global_step):
            self.acted(context.global_step)
            context.request_checkpoint()


class ProfilerHook(_Cadence):
    """Records a TensorFlow profile (for TensorBoard's profile plugin) of the step every N
    steps or seconds acts on, into `output_dir` (default: model_dir/profile)."""

    def __init__(self, save_steps: int | None = None, save_secs: float | None = None,
                 output_dir: str = "", show_dataflow: bool = True, show_memory: bool = False):
        super().__init__(save_steps, save_secs)
        self._output_dir = output_dir
        self._profiling = False

    def next_step(self, global_step: int) -> int | None:
        target = super().next_step(global_step)  # Stop there; start one step before.
        return target - 1 if target is not None and target - 1 > global_step and not self._profiling else target

    def after_run(self, context: RunContext) -> None:
        step = context.global_step
        if self._profiling:
            tf.profiler.experimental.stop()
            self._profiling = False
            self.acted(step)
        elif self.due(step + 1):
            logdir = self._output_dir or os.path.join(getattr(context.estimator, "model_dir", "."), "profile")
            tf.profiler.experimental.start(logdir)
            self._profiling = True

    def end(self, context: RunContext) -> None:
        if self._profiling:
            tf.profiler.experimental.stop()
            self._profiling = False


class NanTensorHook(Hook):
    """Checks `loss_tensor` for NaN/Inf at the end of each loop of steps.

    The Estimator already checks model_fn's loss at every step and raises
    `NanLossDuringTrainingError` before that step is saved; this hook checks another tensor.

    Args:
        loss_tensor: A tensor model_fn created, or its name.
        fail_on_nan_loss: Raise (True) or log and stop training (False).
    """

    def __init__(self, loss_tensor: Any, fail_on_nan_loss: bool = True):
        self._names = fetch_names(loss_tensor)
        self._fail = fail_on_nan_loss

    def fetches(self, global_step: int) -> list[str] | None:
        return self._names

    def after_run(self, context: RunContext) -> None:
        if context.fetched is None or np.all(np.isfinite(context.fetched[0])):
            return
        if self._fail:
            raise NanLossDuringTrainingError(step=context.global_step, loss=float(np.mean(context.fetched[0])))
        logger.warning("NaN or Inf in %s at step %d: stopping training.", self._names[0], context.global_step)
        context.request_stop()


class FinalOpsHook(Hook):
    """Fetches `final_ops` from the last step of the call; `final_ops_values` holds them.

    Args:
        final_ops: A tensor, a list or a dict of tensors (created in model_fn) or names.
        final_ops_feed_dict: Accepted and not used.
    """

    def __init__(self, final_ops: Any, final_ops_feed_dict: Any = None):
        self._final_ops = final_ops
        self._names = fetch_names(final_ops)
        self._end: int | None = None
        self.final_ops_values: Any = None

    def begin(self, context: RunContext) -> None:
        self._end = context.last_step

    def fetches(self, global_step: int) -> list[str] | None:
        return self._names if self._end is None or global_step == self._end else None

    def after_run(self, context: RunContext) -> None:
        if context.fetched is not None:
            self.final_ops_values = tf.nest.pack_sequence_as(self._final_ops, list(context.fetched))
