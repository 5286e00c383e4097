"""TF1 graph collections inside model_fn, for programs written against `tf.compat.v1`.

tf.estimator ran model_fn in a TF1 graph whose collections held the global step and the
trainable variables: `tf.compat.v1.train.get_global_step()` and a compat.v1 optimizer's
`minimize(loss)` (which optimizes `tf.compat.v1.trainable_variables()`) read them. Here model_fn
is traced into a `tf.function` graph; this module fills the same collections of that graph, so
those calls find the Estimator's global step and model_fn's variables.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import tensorflow as tf

_KEYS = tf.compat.v1.GraphKeys
_ASSIGNMENTS = {"AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"}


def _function_graph() -> Any:
    """The graph model_fn is being traced into, or None when running eagerly."""
    return tf.compat.v1.get_default_graph() if tf.inside_function() else None


@contextlib.contextmanager
def global_step_of_graph(global_step: tf.Variable) -> Iterator[None]:
    """Lists the Estimator's global step as the graph's GLOBAL_STEP while model_fn is traced."""
    graph = _function_graph()
    if graph is not None and not graph.get_collection(_KEYS.GLOBAL_STEP):
        graph.add_to_collection(_KEYS.GLOBAL_STEP, global_step)
    yield


def register(variable: Any) -> None:
    """Lists a variable model_fn created or reuses in the graph's GLOBAL_VARIABLES (and
    TRAINABLE_VARIABLES if it is trainable), once per graph."""
    graph = _function_graph()
    if graph is None:
        return
    keys = [_KEYS.GLOBAL_VARIABLES] + ([_KEYS.TRAINABLE_VARIABLES] if variable.trainable else [])
    for key in keys:
        if not any(v is variable for v in graph.get_collection(key)):
            graph.add_to_collection(key, variable)


class AssignmentWatch:
    """A `with` block noting whether the ops it adds to the graph assign `variable` (as a
    compat.v1 optimizer does to the global step it is given)."""

    def __init__(self, variable: tf.Variable | None):
        self._variable = variable  # None: watch nothing.
        self._graph = None
        self._start = 0
        self.assigned = False

    def __enter__(self) -> "AssignmentWatch":
        self._graph = _function_graph() if self._variable is not None else None
        if self._graph is not None:
            self._start = len(self._graph.get_operations())
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._graph is None or exc[0] is not None:
            return
        handles = {id(internal) for external, internal in self._graph.captures
                   if external is self._variable.handle}
        self.assigned = any(
            op.type in _ASSIGNMENTS and id(op.inputs[0]) in handles
            for op in self._graph.get_operations()[self._start:]
        )


def tensor_by_name(name: str) -> tf.Tensor:
    """The tensor `name` ("softmax_tensor:0") of the graph model_fn is being traced into.

    Raises:
        ValueError: if model_fn created no such tensor.
    """
    graph = tf.compat.v1.get_default_graph()
    try:
        return graph.get_tensor_by_name(name)
    except (KeyError, ValueError) as e:
        for key in (_KEYS.GLOBAL_STEP, _KEYS.GLOBAL_VARIABLES):  # A variable, e.g. the global step.
            for variable in graph.get_collection(key):
                if variable.name == name:
                    return variable.read_value()
        raise ValueError(
            f"A hook asked to fetch tensor {name!r}, but model_fn created no tensor of that name "
            "(name it, e.g. tf.identity(x, name=...), or give the hook the tensor itself)."
        ) from e
