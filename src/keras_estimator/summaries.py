"""TensorBoard summaries in model_dir: the training scalars and each evaluation's results."""

from __future__ import annotations

import os

import tensorflow as tf

from keras_estimator.validation import is_simple_name


def eval_dir(model_dir: str, name: str | None = None) -> str:
    """Where `evaluate(name=...)` writes its summaries: `model_dir/eval` or `model_dir/eval_<name>`.

    Raises:
        ValueError: if name is not a simple directory name.
    """
    if name is not None and not is_simple_name(str(name)):
        raise ValueError(f"Evaluation name {name!r} must be a simple directory name.")
    return os.path.join(os.fspath(model_dir), "eval" if name is None else f"eval_{name}")


# The metadata TensorBoard's scalars plugin gives a scalar summary (its content: version 0).
_SCALAR = tf.compat.v1.SummaryMetadata(plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))


class SummaryWriter:
    """A TensorBoard writer created on first use, so a call that fails early writes nothing.

    Args:
        logdir: The event file directory; None writes nothing (a task that is not the chief).
    """

    def __init__(self, logdir: str | None):
        self._logdir = logdir
        self._writer = None

    def scalar(self, name: str, value: float, step: int) -> None:
        """Writes one scalar at `step`."""
        if self._logdir is None:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self._logdir)
        with self._writer.as_default():
            # tf.summary.scalar's own event, written without importing TensorBoard's summary
            # package, which tf.summary.scalar imports on first use (0.2 s of a first evaluate).
            tf.summary.write(name, tf.constant(value, tf.float32), step=step, metadata=_SCALAR)

    def close(self) -> None:
        """Flushes and closes the event file, if one was opened."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
