"""`SecondOrStepTimer`: tf.estimator's timer for hooks that act every N seconds or N steps."""

from __future__ import annotations

import time

from keras_estimator.validation import check_int, check_number

__all__ = ["SecondOrStepTimer"]


class SecondOrStepTimer:
    """Triggers at most once every `every_secs` seconds or once every `every_steps` steps.

    tf.estimator's (and `tf.compat.v1.train`'s) `SecondOrStepTimer`, with the same methods and
    semantics: it triggers on the first step asked about, never twice for the same step, and
    then when the time or the steps since the last `update_last_triggered_step` reach the
    period. A hook typically asks `should_trigger_for_step(step)` in `after_run` and calls
    `update_last_triggered_step(step)` when it acted.

    Args:
        every_secs: Trigger when at least this many seconds passed since the last trigger.
        every_steps: Trigger when at least this many steps passed since the last trigger.

    Raises:
        ValueError: if neither or both are given (tf.estimator's messages), or the one given
            is negative or not a number (0 triggers at every new step).
    """

    def __init__(self, every_secs: float | None = None, every_steps: int | None = None):
        if every_secs is None and every_steps is None:
            raise ValueError("Either every_secs or every_steps should be provided.")
        if every_secs is not None and every_steps is not None:
            raise ValueError("Can not provide both every_secs and every_steps.")
        if every_steps is not None:
            check_int("every_steps", every_steps, 0)
        else:
            check_number("every_secs", every_secs)
        self._every_secs = every_secs
        self._every_steps = every_steps
        self._last_triggered_step: int | None = None
        self._last_triggered_time: float | None = None

    def reset(self) -> None:
        """Forgets the last trigger: the next step asked about triggers."""
        self._last_triggered_step = None
        self._last_triggered_time = None

    def should_trigger_for_step(self, step: int) -> bool:
        """Whether the timer triggers at `step`.

        Args:
            step: A (global or local) step number.

        Returns:
            True if it never triggered, or if `step` is not the last triggered step and
            `every_secs` seconds or `every_steps` steps passed since the last trigger.
        """
        if self._last_triggered_step is None:
            return True
        if self._last_triggered_step == step:
            return False
        if self._every_secs is not None:
            return time.time() >= self._last_triggered_time + self._every_secs
        return step >= self._last_triggered_step + self._every_steps

    def update_last_triggered_step(self, step: int) -> tuple[float | None, int | None]:
        """Records a trigger at `step`, now.

        Args:
            step: The step the timer triggered at.

        Returns:
            `(elapsed_secs, elapsed_steps)` since the previous trigger; `(None, None)` on the
            first trigger.
        """
        now = time.time()
        if self._last_triggered_time is None:
            elapsed: tuple[float | None, int | None] = (None, None)
        else:
            elapsed = (now - self._last_triggered_time, step - self._last_triggered_step)
        self._last_triggered_time = now
        self._last_triggered_step = step
        return elapsed

    def last_triggered_step(self) -> int | None:
        """The step of the last trigger, or None if it never triggered (a method, as in
        tf.estimator)."""
        return self._last_triggered_step
