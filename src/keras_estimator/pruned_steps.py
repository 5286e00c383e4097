"""EVAL and PREDICT steps for a model_fn that builds its train_op in every mode.

TF1 ran only the ops a session fetched, so tf.estimator programs often call
`optimizer.minimize(...)` whatever the mode and an evaluation never trained. Inside
`tf.function` every stateful op runs. For such a model_fn (seen as a global-step update outside
TRAIN) the step is traced with `tf.compat.v1.wrap_function`, which keeps TF1's semantics, and
pruned to what the mode fetches: the loss and the metric updates in EVAL, the predictions in
PREDICT. The train_op is left out, as tf.estimator left it unrun.
"""

from __future__ import annotations

from typing import Any, Callable

import tensorflow as tf

from keras_estimator.errors import first_line
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.spec import EstimatorSpec, is_metric_tuple

_ASSIGNMENTS = {"AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"}


def state_updates(graph: Any, state_variables: list) -> list:
    """The ops of `graph` that assign one of `state_variables` (metric state)."""
    handles = {id(v.handle) for v in state_variables}
    internal = {id(i) for external, i in graph.captures if id(external) in handles}
    return [op for op in graph.get_operations() if op.type in _ASSIGNMENTS and id(op.inputs[0]) in internal]


def pruned_step(call: Callable[[Any, Any, str], EstimatorSpec], state_variables: Callable[[], list],
                mode: str, features_spec: Any, labels_spec: Any) -> tuple[Callable, EstimatorSpec]:
    """(step, the traced spec): `step(features, labels)` returns EVAL's loss (after the metric
    updates) or PREDICT's predictions, without running anything else model_fn created."""
    traced: dict[str, Any] = {}

    # No labels (PREDICT, an export): no input for them (tf.nest would keep None as a leaf).
    def inputs(features: Any, labels: Any) -> tuple:
        return (features,) if labels_spec is None else (features, labels)

    def graph(*flat):
        features, *labels = tf.nest.pack_sequence_as(inputs(features_spec, labels_spec), list(flat))
        traced["spec"] = spec = call(features, labels[0] if labels else None, mode)
        traced["inputs"] = list(flat)
        if mode == ModeKeys.PREDICT:
            return spec.predictions
        return spec.loss

    flat_specs = tf.nest.flatten(inputs(features_spec, labels_spec))
    wrapped = tf.compat.v1.wrap_function(graph, signature=flat_specs)
    spec = traced["spec"]
    if mode == ModeKeys.PREDICT:
        fetches: Any = spec.predictions
    else:
        updates = [m[1] for m in spec.eval_metric_ops.values() if is_metric_tuple(m)]
        fetches = {"loss": spec.loss, "updates": updates + state_updates(wrapped.graph, state_variables())}
    pruned = wrapped.prune(feeds=traced["inputs"], fetches=fetches)

    def step(features: Any, labels: Any) -> Any:
        out = pruned(*tf.nest.flatten(inputs(features, labels)))
        return out if mode == ModeKeys.PREDICT else out["loss"]

    return step, spec


def metric_values_fn(call: Callable[[Any, Any, str], EstimatorSpec], features_spec: Any, labels_spec: Any) -> Any:
    """A function reading the values of EVAL's (value, update_op) metrics from their variables
    alone: model_fn traced with wrap_function and pruned to the value tensors, no update run.

    Raises:
        ValueError: if a value depends on the batch, not only on the metric's variables.
    """
    values: dict[str, tf.Tensor] = {}

    def graph():
        def placeholder(s):
            return tf.compat.v1.placeholder(s.dtype, s.shape)
        features = tf.nest.map_structure(placeholder, features_spec)
        labels = tf.nest.map_structure(placeholder, labels_spec) if labels_spec is not None else None
        spec = call(features, labels, ModeKeys.EVAL)
        values.update({k: m[0] for k, m in spec.eval_metric_ops.items() if is_metric_tuple(m)})

    traced = tf.compat.v1.wrap_function(graph, signature=[])
    try:
        return traced.prune(feeds=[], fetches=values)
    except (ValueError, tf.errors.InvalidArgumentError) as e:
        raise ValueError(
            f"An eval_metric_ops (value, update_op) value among {sorted(values)} depends on the "
            f"batch, not only on the metric's variables; return the value computed from its "
            f"variables (as tf.compat.v1.metrics do). ({first_line(e)})"
        ) from e


def kept_after_update(spec: EstimatorSpec, kept: dict[str, tf.Variable]) -> list:
    """Ops that keep each `(value, update_op)` metric's value after this batch's update in
    `kept` (name -> variable, made on first use outside the function being traced), so
    reading them after the loop needs no second trace of model_fn. Only where every update_op
    is its metric's value after the update, as `tf.compat.v1.metrics` make them
    (`<name>/value`, `<name>/update_op`); otherwise none, and `metric_values_fn` reads them."""
    tuples = {k: m for k, m in spec.eval_metric_ops.items() if is_metric_tuple(m)}
    if not tuples or not all(_value_after_update(*m) for m in tuples.values()):
        return []
    ops = []
    for name, (_, update) in tuples.items():
        if name not in kept:
            with tf.init_scope():  # Unlifted: tf.function would trace a creating function twice.
                kept[name] = tf.Variable(tf.zeros(update.shape, update.dtype), trainable=False,
                                         experimental_enable_variable_lifting=False)
        ops.append(kept[name].assign(update))
    return ops


def _value_after_update(value: Any, update: Any) -> bool:
    return (isinstance(value, tf.Tensor) and isinstance(update, tf.Tensor) and value.dtype == update.dtype
            and update.shape.is_fully_defined() and value.name.endswith("/value:0")
            and update.name.endswith("/update_op:0")
            and value.name[: -len("value:0")] == update.name[: -len("update_op:0")])

