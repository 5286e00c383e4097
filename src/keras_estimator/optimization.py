"""`minimize`: the TRAIN-mode `train_op` for Keras 3 optimizers, which have no `minimize(loss)`."""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from keras_estimator import _compat
from keras_estimator import context as context_lib


def minimize(
    loss: tf.Tensor,
    optimizer: keras.optimizers.Optimizer,
    var_list: Sequence[keras.Variable] | None = None,
) -> tf.Tensor:
    """Applies one optimizer update that lowers `loss`; returns it as the spec's `train_op`.

    Call it inside `model_fn` in `ModeKeys.TRAIN`. The Estimator records the forward pass of
    model_fn on a gradient tape, so no tape is needed here. Under a `tf.distribute` strategy the
    loss is the per-replica mean and is scaled so that replicas together take the same step as
    one device on the global batch.

    Args:
        loss: The scalar loss model_fn computed.
        optimizer: A Keras 3 optimizer, e.g. `keras.optimizers.Adam(1e-3)`.
        var_list: Variables to update. Defaults to every trainable variable model_fn created or
            used in this call.

    Returns:
        An op to pass as `EstimatorSpec(train_op=...)`.

    Raises:
        RuntimeError: if called outside model_fn in TRAIN mode.
        ValueError: if there are no trainable variables, or the loss depends on none of them.
    """
    ctx = context_lib.current()
    if ctx is None or ctx.tape is None:
        raise RuntimeError(
            "keras_estimator.minimize must be called inside model_fn in ModeKeys.TRAIN, "
            "where the Estimator records gradients."
        )
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            f"minimize needs a Keras 3 optimizer (keras.optimizers.*), got {type(optimizer).__name__}."
        )
    if var_list is None:
        var_list = ctx.store.trainable_views(ctx.call_keys)
    var_list = list(var_list)
    if not var_list:
        raise ValueError("minimize: model_fn created no trainable variables to update.")
    if ctx.building:
        optimizer.build(var_list)  # Slots and iterations, mirrored; no update in this trace.
        return tf.identity(optimizer.iterations, name="train_op")
    pairs = [(g, v) for g, v in zip(_gradients(ctx, loss, var_list), var_list) if g is not None]
    if not pairs:
        raise ValueError(
            "minimize: the loss does not depend on any of the variables "
            f"{[getattr(v, 'path', getattr(v, 'name', '?')) for v in var_list]}."
        )
    optimizer.apply_gradients(pairs)
    # A tensor that depends on the update: the optimizer's iteration count after it.
    return tf.identity(optimizer.iterations, name="train_op")


def _gradients(ctx, loss: tf.Tensor, var_list: list) -> list:
    """The gradients of the replica's `loss` (None where it does not depend on a variable)."""
    scaled = loss
    replicas = ctx.strategy.num_replicas_in_sync
    if replicas > 1:  # Keras sums gradients across replicas; the loss is a per-replica mean.
        scaled = loss / tf.cast(replicas, loss.dtype)
    if ctx.tape_used:  # A second minimize in this step: the (non-persistent) tape is spent.
        grads = tf.gradients(scaled, [_compat.backing_variable(v) for v in var_list])
    else:
        with ctx.tape.stop_recording():
            grads = ctx.tape.gradient(scaled, var_list)
        ctx.tape_used = True
    if isinstance(ctx.strategy, tf.distribute.MultiWorkerMirroredStrategy):
        # Sparse gradients (embeddings) of different sizes on different workers make the
        # collective all-gather fail with a shape mismatch; dense ones all-reduce.
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
    return grads
