"""Training progress for the command line: a progress bar on a terminal, log lines otherwise.

The same report (step, loss, steps/s, ETA) comes from an Estimator `Hook` or a Keras callback,
so both training paths look alike.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

import keras

from keras_estimator.hooks import Hook, RunContext


class Progress:
    """Reports training from `start` to `last` global steps.

    Args:
        start: The global step training starts from.
        last: The global step it stops at.
        stream: Where reports go; a terminal gets a `keras.utils.Progbar`, anything else a
            line every `log_every` steps (and at the end).
        log_every: Steps between log lines; None picks about ten lines per run.
    """

    def __init__(self, start: int, last: int, stream: TextIO | None = None, log_every: int | None = None):
        self.start, self.last = start, last
        self.stream = stream or sys.stdout
        total = max(last - start, 1)
        self.interactive = _is_terminal(self.stream)
        # About 100 bar updates or 10 log lines per run, at round step numbers.
        self.every = log_every or _round_interval(total // (100 if self.interactive else 10))
        self._bar = keras.utils.Progbar(total, stateful_metrics=["loss", "steps/s"]) if self.interactive else None
        self._t0 = time.monotonic()
        self._rate_t, self._rate_step = self._t0, start

    def next_report(self, step: int) -> int:
        """The next global step that should be reported after `step`."""
        return min(self.last, (step // self.every + 1) * self.every)

    def update(self, step: int, loss: float | None) -> None:
        now = time.monotonic()
        rate = (step - self._rate_step) / max(now - self._rate_t, 1e-9)
        if self._bar is not None:
            values = [("steps/s", rate)] + ([("loss", loss)] if loss is not None else [])
            self._bar.update(step - self.start, values=values)
        else:
            done = step - self.start
            overall = done / max(now - self._t0, 1e-9)
            eta = (self.last - step) / overall if overall > 0 else float("inf")
            loss_text = f"loss {loss:.4f}" if loss is not None else "loss -"
            self.stream.write(f"step {step}/{self.last}  {loss_text}  {rate:.1f} steps/s  ETA {_duration(eta)}\n")
            self.stream.flush()
        self._rate_t, self._rate_step = now, step


class ProgressHook(Hook):
    """An Estimator training hook reporting through `Progress`; `make(start)` builds it once
    the starting step is known."""

    def __init__(self, make: Callable[[int], Progress]):
        self._make = make
        self.progress: Progress | None = None

    def begin(self, context: RunContext) -> None:
        self.progress = self._make(context.global_step)

    def next_step(self, global_step: int) -> int | None:
        return self.progress.next_report(global_step) if self.progress else None

    def after_run(self, context: RunContext) -> None:
        self.progress.update(context.global_step, context.loss)


class ProgressCallback(keras.callbacks.Callback):
    """The Keras `fit` counterpart of `ProgressHook` (fit runs with verbose=0)."""

    def __init__(self, progress: Progress):
        super().__init__()
        self.progress = progress
        self._step = progress.start

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.progress.every == 0 or self._step >= self.progress.last:
            loss = (logs or {}).get("loss")
            self.progress.update(self._step, None if loss is None else float(loss))


def _round_interval(steps: int) -> int:
    """The largest of 1, 2, 5, 10, 20, 50, ... that is at most `steps` (at least 1)."""
    best, scale = 1, 1
    while True:
        for m in (1, 2, 5):
            if m * scale > steps:
                return best
            best = m * scale
        scale *= 10


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
