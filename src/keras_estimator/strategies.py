"""Which `tf.distribute` strategy each mode runs under, from RunConfig's train_distribute and
eval_distribute."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

_MIRRORED = (tf.distribute.MirroredStrategy, tf.compat.v1.distribute.MirroredStrategy)


def to_run(strategy: Any) -> Any:
    """`train_distribute`, or the default strategy for None. A MirroredStrategy over one device
    (what `MirroredStrategy()` finds on a machine with one CPU and no GPU, where TensorFlow's
    guides run it) computes what that device computes, and its mirrored variables could not be
    created by a traced step: it runs as that device."""
    if strategy is None or (isinstance(strategy, _MIRRORED) and strategy.num_replicas_in_sync == 1):
        return tf.distribute.get_strategy()
    return strategy


def eval_to_run(train: Any, eval_distribute: Any) -> Any:
    """The strategy evaluate and predict run under (see `to_run`).

    Raises:
        ValueError: for a multi-replica eval_distribute that is not a MirroredStrategy, or one
            other than a multi-replica train_distribute (variables are created once, in
            train_distribute's scope).
    """
    strategy = to_run(eval_distribute)
    if strategy.num_replicas_in_sync == 1:
        return strategy
    if not isinstance(strategy, _MIRRORED):
        raise ValueError(
            f"eval_distribute must be a MirroredStrategy (the devices of one machine), given "
            f"{type(strategy).__name__}: evaluation runs in one task."
        )
    if train.num_replicas_in_sync > 1 and train is not strategy:
        raise ValueError(
            "eval_distribute must be the same strategy object as train_distribute when both run "
            "several replicas: the variables are created once, in train_distribute's scope."
        )
    return strategy

