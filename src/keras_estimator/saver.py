"""Checkpoint saving during `train`: the cadence, the NaN/Inf guard, and the listeners.

A save never rewrites a listed checkpoint (a step is saved once), refuses weights holding NaN or
Inf (the update of that step overflowed), and writes the input signature before the first
checkpoint. Only the chief writes into model_dir; other tasks of a cluster run the same code
into a temporary directory of their own, deleted at the end.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from typing import Iterable

from keras_estimator import checkpoints as ckpt_lib
from keras_estimator.errors import NanLossDuringTrainingError
from keras_estimator.hooks import CheckpointSaverListener
from keras_estimator.model import Model
from keras_estimator.validation import check_instances

logger = logging.getLogger("keras_estimator")


class CheckpointSaver:
    """Saves the model's checkpoints on the RunConfig cadence and calls the listeners.

    Args:
        model: The `Model` whose variables and global step are saved.
        listeners: `CheckpointSaverListener`s.
        start_step: The step training resumes from.
        resumed: True if start_step's checkpoint exists already (it is not saved again).

    Raises:
        ValueError: if a listener is not a `CheckpointSaverListener`.
    """

    def __init__(self, model: Model, listeners: Iterable[CheckpointSaverListener] | None,
                 start_step: int, resumed: bool):
        self._model = model
        self._config = model.config
        self.listeners = check_instances(listeners, CheckpointSaverListener, "saving_listeners")
        self._last_step = start_step if resumed else -1
        self._last_time = time.time()
        self._checkpoint = None
        self._directory = self._config.model_dir if self._config.is_chief else None

    def begin(self) -> None:
        """Tells the listeners training begins."""
        for listener in self.listeners:
            listener.begin()

    def due(self, step: int) -> bool:
        """True if the cadence (save_checkpoints_steps or _secs) asks for a save at `step`."""
        if self._config.save_checkpoints_steps:
            return step % self._config.save_checkpoints_steps == 0
        return time.time() - self._last_time >= self._config.save_checkpoints_secs

    def save(self, step: int) -> bool:
        """Saves at `step` unless already saved; returns True if a listener asked to stop.

        Raises:
            NanLossDuringTrainingError: if a weight holds NaN or Inf (nothing is saved).
        """
        if step <= self._last_step:
            return False
        bad = self._model.store.non_finite()
        if bad:  # The update of this step overflowed: never checkpoint it.
            raise NanLossDuringTrainingError(step=step, loss=None, variable=bad[0])
        if self._checkpoint is None:
            self._first_save()
        for listener in self.listeners:
            listener.before_save(step)
        path = ckpt_lib.save(self._checkpoint, self._directory, step, self._config)
        # Other tasks of a cluster save into their own temporary directory: not worth a line.
        level = logging.INFO if self._config.is_chief else logging.DEBUG
        logger.log(level, "Saving checkpoints for %d into %s.", step, path)
        self._last_step, self._last_time = step, time.time()
        stop = False
        for listener in self.listeners:
            stop = bool(listener.after_save(step, path)) or stop
        return stop

    def end(self, step: int) -> None:
        """Saves the final checkpoint of the call (if not saved yet) and tells the listeners."""
        self.save(step)
        for listener in self.listeners:
            listener.end(step)

    def close(self) -> None:
        """Deletes the checkpoints of a task that is not the chief."""
        if self._directory is not None and self._directory != self._config.model_dir:
            shutil.rmtree(self._directory, ignore_errors=True)

    def _first_save(self) -> None:
        if self._directory is None:
            self._directory = tempfile.mkdtemp(prefix=f"keras_estimator_{self._config.task_type}_")
        else:  # The chief: the signature goes with the first checkpoint.
            self._model.signature.write_pending()
        self._checkpoint = ckpt_lib.make(self._model.global_step, self._model.store.checkpointed())
