"""What model_fn can reach while the Estimator calls it: the mode and the global step."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import tensorflow as tf

from keras_estimator.variable_store import VariableStore

_local = threading.local()


@dataclasses.dataclass
class ModelFnContext:
    mode: str
    global_step: tf.Variable
    store: VariableStore
    call_keys: list[str]
    tape: tf.GradientTape | None
    strategy: Any
    # Under a multi-replica strategy, variables are first created by one trace in the
    # cross-replica context, where gradients cannot be taken: `minimize` only creates the
    # optimizer's variables then.
    building: bool = False
    # The tape gives gradients once; a second `minimize` in the same step (wide & deep: one
    # optimizer per part) differentiates the graph symbolically instead.
    tape_used: bool = False


def current() -> ModelFnContext | None:
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else None


class enter:
    """Makes `context` current for the duration of a `with` block."""

    def __init__(self, context: ModelFnContext):
        self._context = context

    def __enter__(self) -> ModelFnContext:
        if not hasattr(_local, "stack"):
            _local.stack = []
        _local.stack.append(self._context)
        return self._context

    def __exit__(self, *exc) -> None:
        _local.stack.pop()


def get_global_step() -> tf.Variable | None:
    """Returns the global step variable of the Estimator calling model_fn, or None outside.

    Inside model_fn its value is the number of training steps completed before the step being
    built runs, also when several steps run in one `tf.function` call: read it (e.g.
    `tf.cast(get_global_step(), tf.float32)`) for schedules. The Estimator advances it after
    each training step; model_fn must not assign it.
    """
    context = current()
    return context.global_step if context is not None else None
