"""Hooks: user code the Estimator runs between training (or evaluation) loops.

tf.estimator's `SessionRunHook` ran inside a `tf.compat.v1.Session` on every step; there is no
session in TensorFlow 2 and several steps run inside one `tf.function` call. A `Hook` instead
runs in Python between loops, and a loop always ends at the step a hook asks for with
`next_step`, so a hook sees exactly the steps it needs:

- `begin(context)`: once, after variables are restored and before the first step.
- `next_step(global_step)`: the next global step after which `after_run` must run (None: after
  whatever loop comes next).
- `after_run(context)`: after each loop (in train after the step's due checkpoint was saved);
  `context.global_step`, `context.loss` (the loss of the last step run) and
  `context.request_stop()`.
- `end(context)`: once, after the last step, before the final checkpoint is saved.
"""

from __future__ import annotations

from typing import Any

from keras_estimator.validation import check_instances


class RunContext:
    """What a hook sees of a running `train`, `evaluate` or `predict` call."""

    def __init__(self, estimator: Any, mode: str, global_step: int, last_step: int | None = None):
        self.estimator = estimator
        self.mode = mode
        self.global_step = global_step
        self.last_step = last_step  # Where train ends (None: at the data end or a stop).
        self.loss: float | None = None
        self.steps_in_call = 0
        self.fetched: list | None = None  # In after_run: the values of this hook's fetches.
        self.checkpoint_requested = False
        self._stop = False

    def request_checkpoint(self) -> None:
        """Saves a checkpoint after the current loop of `train` (if none exists at this step)."""
        self.checkpoint_requested = True

    def request_stop(self) -> None:
        """Ends the call after the current loop (a final checkpoint is still saved)."""
        self._stop = True

    @property
    def stop_requested(self) -> bool:
        """True once `request_stop` was called."""
        return self._stop


class Hook:
    """Base class for hooks passed to `train`, `evaluate` and `predict`: override what you need."""

    def begin(self, context: RunContext) -> None:
        """Called once, after variables are restored and before the first step."""

    def next_step(self, global_step: int) -> int | None:
        """The next global step after which `after_run` must run; None: after the next loop."""
        return None

    def fetches(self, global_step: int) -> list[str] | None:
        """Tensor names (or tensors model_fn created) whose values `after_run` wants from the
        training step that ends at `global_step`: the loop that ends there runs its last step
        apart, fetching them, and `after_run` finds the values in `context.fetched`, in order.
        None: nothing (every other step runs at full speed)."""
        return None

    def after_run(self, context: RunContext) -> None:
        """Called after each loop of steps (each batch in `predict`)."""

    def end(self, context: RunContext) -> None:
        """Called once after the last step (in `train`, before the final checkpoint)."""


class StopAtStepHook(Hook):
    """Stops training after `num_steps` more steps, or at global step `last_step`.

    Raises:
        ValueError: if neither or both are given.
    """

    def __init__(self, num_steps: int | None = None, last_step: int | None = None):
        if (num_steps is None) == (last_step is None):
            raise ValueError("StopAtStepHook needs exactly one of num_steps and last_step.")
        self._num_steps = num_steps
        self._last_step = last_step

    def begin(self, context: RunContext) -> None:
        if self._num_steps is not None:
            self._last_step = context.global_step + self._num_steps
        if context.global_step >= self._last_step:
            context.request_stop()

    def next_step(self, global_step: int) -> int | None:
        return self._last_step

    def after_run(self, context: RunContext) -> None:
        if context.global_step >= self._last_step:
            context.request_stop()


class CheckpointSaverListener:
    """Called around each checkpoint `train` saves (tf.estimator's saving_listeners)."""

    def begin(self) -> None:
        """Called once when training starts, before any save."""

    def before_save(self, global_step: int) -> None:
        """Called before the checkpoint of `global_step` is written."""

    def after_save(self, global_step: int, checkpoint_path: str) -> bool | None:
        """Called after the checkpoint is written and listed; return True to stop training."""
        return None

    def end(self, global_step: int) -> None:
        """Called once after the final checkpoint of the call."""


# The validation `train_and_evaluate`'s specs use too.
check_hooks = check_instances
