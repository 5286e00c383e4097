"""One `train` call's hold on model_dir: the lock, the resume point, and the clean-up.

The chief locks model_dir (`ModelDirLock`) for the whole call, finds the newest usable
checkpoint (skipping damaged ones), and, only once the input and model_fn checked out, creates
a new model_dir and clears what killed saves left behind. A call that fails before writing
leaves no new directory behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil

from keras_estimator import checkpoints as ckpt_lib
from keras_estimator.errors import ModelDirInUseError
from keras_estimator.model_dir_lock import ModelDirLock

logger = logging.getLogger("keras_estimator")


class TrainingSession:
    """A `with` block around one `train` call.

    Args:
        model_dir: The Estimator's model_dir.
        chief: Only the chief writes into model_dir, so only it locks and cleans up.

    Attributes:
        latest: The newest usable checkpoint when the session began, or None.
        start_step: Its global step (0 without one).

    Raises:
        ModelDirInUseError: on entry (or in `start_writing` for a new model_dir) if another
            process trains into model_dir.
        CheckpointDamagedError: on entry, if model_dir lists checkpoints and none is readable.
    """

    def __init__(self, model_dir: str, chief: bool):
        self.model_dir = model_dir
        self._chief = chief
        self._created = chief and not os.path.isdir(model_dir)
        self._stack = contextlib.ExitStack()
        self._damaged: list[str] = []
        self.latest: str | None = None
        self.start_step = 0

    def __enter__(self) -> "TrainingSession":
        with self._stack as stack:
            if self._chief and not self._created:
                stack.enter_context(ModelDirLock(self.model_dir))
            self.latest, self._damaged = ckpt_lib.usable(self.model_dir)
            self.start_step = ckpt_lib.step_of(self.latest) if self.latest else 0
            self._stack = stack.pop_all()
        return self

    def start_writing(self) -> None:
        """Called once the input and model_fn checked out, before the first write: creates
        and locks a new model_dir, or moves damaged checkpoints aside and removes leftovers."""
        if self._created:
            os.makedirs(self.model_dir, exist_ok=True)
            self._stack.enter_context(ModelDirLock(self.model_dir))
            if ckpt_lib.listed(self.model_dir):  # Another process got there first.
                raise ModelDirInUseError(self.model_dir)
        if self._chief:
            clean_up(self.model_dir, self._damaged)

    def __exit__(self, *exc) -> None:
        try:
            if self._created and os.path.isdir(self.model_dir) and not os.listdir(self.model_dir):
                os.rmdir(self.model_dir)  # A call that failed before writing leaves no trace.
        finally:
            self._stack.close()


def clean_up(model_dir: str, damaged: list[str]) -> None:
    """Before training writes: moves damaged checkpoints aside (so their step numbers are never
    rewritten while listed) and removes what a killed save left behind."""
    if damaged:
        keep = [p for p in ckpt_lib.listed(model_dir) if p not in damaged]
        where = ckpt_lib.quarantine(model_dir, damaged, keep)
        logger.warning("Moved damaged checkpoint(s) %s to %s; training resumes from %s.", damaged, where, keep[-1])
    for path in ckpt_lib.leftovers(model_dir):
        logger.info("Removing %s, left by a save that did not complete.", path)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
