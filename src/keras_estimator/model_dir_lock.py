"""One training process per model_dir: an exclusive lock held while `train` runs.

The lock is `flock` on the model_dir directory itself: nothing is written into model_dir, and
the operating system releases it when the process exits, also after SIGKILL, so a crashed
trainer never leaves it stuck. Works on local file systems and on NFS mounts with locking.
"""

from __future__ import annotations

import fcntl
import os

from keras_estimator.errors import ModelDirInUseError


class ModelDirLock:
    """An exclusive, non-blocking lock on `model_dir` (which must exist) for `with` blocks.

    Raises:
        ModelDirInUseError: on entry, if another process (or another open lock in this one)
            holds it.
    """

    def __init__(self, model_dir: str):
        self.model_dir = model_dir
        self._fd: int | None = None

    def __enter__(self) -> "ModelDirLock":
        fd = os.open(self.model_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ModelDirInUseError(self.model_dir) from None
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # Closing releases the lock.
            self._fd = None
