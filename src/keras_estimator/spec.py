"""`EstimatorSpec`: what `model_fn` returns to tell the Estimator what to run in each mode."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, NamedTuple

import keras
import tensorflow as tf

from keras_estimator.errors import EstimatorSpecError
from keras_estimator.export.export_output import ExportOutput
from keras_estimator.hook_list import as_hooks
from keras_estimator.mode_keys import ModeKeys


class EstimatorSpec(
    NamedTuple(
        "EstimatorSpec",
        [
            ("mode", str),
            ("predictions", Any),
            ("loss", Any),
            ("train_op", Any),
            ("eval_metric_ops", Any),
            ("export_outputs", Any),
            ("training_chief_hooks", tuple),
            ("training_hooks", tuple),
            ("scaffold", Any),
            ("evaluation_hooks", tuple),
            ("prediction_hooks", tuple),
        ],
    )
):
    """Ops and objects returned from a `model_fn` and passed to an `Estimator`.

    Args:
        mode: A `ModeKeys` value: the mode `model_fn` was called with.
        predictions: A tensor or a dict of tensors, each with the batch as its first dimension.
            Required in `PREDICT`.
        loss: A scalar tensor: the mean loss of the batch. Required in `TRAIN` and `EVAL`.
        train_op: What runs the update, usually `keras_estimator.minimize(loss, optimizer)`.
            Required in `TRAIN`. In TensorFlow 2 the update runs when `model_fn` calls it; the
            field marks that it was done.
        eval_metric_ops: A dict of name to a `keras.metrics.Metric` updated inside `model_fn`,
            or to a tf.estimator `(value, update_op)` tuple (e.g. `tf.compat.v1.metrics.*`):
            `update_op` runs on every batch and the result is `value` after the last one. The
            Estimator resets metric state at the start of each `evaluate` and never
            checkpoints it. A metric whose `result()` is a dict (Keras's compiled metrics)
            reports each entry under its own key. The names `loss` and `global_step` are
            reserved.
        export_outputs: A dict of signature name to `keras_estimator.export` output
            (`PredictOutput`, `ClassificationOutput`, `RegressionOutput`), used by
            `export_saved_model`; default: `serving_default`, a `PredictOutput` of predictions.
        training_chief_hooks, training_hooks, evaluation_hooks, prediction_hooks: `Hook`s
            the call of that mode runs besides its `hooks=` (chief hooks on the chief only).
        scaffold: Accepted for tf.estimator programs and not used: there is no session to
            initialize, and checkpoints are always written by the Estimator.

    Raises:
        ValueError: if a field the mode requires is missing, the loss is not a scalar, or a
            field has the wrong type. The message names the mode and the field.
    """

    def __new__(
        cls,
        mode: str,
        predictions: Any = None,
        loss: Any = None,
        train_op: Any = None,
        eval_metric_ops: Mapping[str, keras.metrics.Metric] | None = None,
        export_outputs: Mapping[str, Any] | None = None,
        training_chief_hooks: Iterable[Any] | None = None,
        training_hooks: Iterable[Any] | None = None,
        scaffold: Any = None,
        evaluation_hooks: Iterable[Any] | None = None,
        prediction_hooks: Iterable[Any] | None = None,
    ) -> "EstimatorSpec":
        ModeKeys.validate(mode)
        _check_required(mode, predictions, loss, train_op)
        if loss is not None:
            loss = _check_loss(mode, loss)
        if predictions is not None:
            _check_predictions(mode, predictions)
        eval_metric_ops = _check_metrics(eval_metric_ops)
        if export_outputs is not None:
            _check_export_outputs(export_outputs)
        hooks = [as_hooks(h, f"EstimatorSpec {what}") for what, h in (
            ("training_chief_hooks", training_chief_hooks), ("training_hooks", training_hooks),
            ("evaluation_hooks", evaluation_hooks), ("prediction_hooks", prediction_hooks))]
        return super().__new__(
            cls, mode, predictions, loss, train_op, eval_metric_ops, export_outputs,
            tuple(hooks[0]), tuple(hooks[1]), scaffold, tuple(hooks[2]), tuple(hooks[3]),
        )

    def _replace(self, **kwargs: Any) -> "EstimatorSpec":
        """A copy with fields replaced, validated like a new spec."""
        return EstimatorSpec(**{**self._asdict(), **kwargs})


def _check_required(mode: str, predictions: Any, loss: Any, train_op: Any) -> None:
    if mode == ModeKeys.TRAIN:
        _require(mode, "loss", loss)
        _require(mode, "train_op", train_op)
    elif mode == ModeKeys.EVAL:
        _require(mode, "loss", loss)
    else:
        _require(mode, "predictions", predictions)


def _require(mode: str, field: str, value: Any) -> None:
    if value is None:
        raise EstimatorSpecError(f"EstimatorSpec for mode {mode!r} is missing {field}.")


def _check_loss(mode: str, loss: Any) -> tf.Tensor:
    try:
        loss = tf.convert_to_tensor(loss)
    except (TypeError, ValueError) as e:
        raise EstimatorSpecError(f"EstimatorSpec loss for mode {mode!r} is not a tensor: {e}") from None
    if loss.shape.rank == 1 and loss.shape[0] in (1, None):
        # tf.estimator took [1] as a scalar, and [None] holding one value when run (a per-example
        # loss of a batch of 1); more values are refused when run, naming the problem.
        if loss.shape[0] is None:
            check = tf.debugging.assert_equal(
                tf.size(loss), 1, message=f"Loss must be scalar, given: {loss.shape} (mode {mode!r}) "
                "holding more than one value. Reduce it, e.g. with tf.reduce_mean.")
            with tf.control_dependencies([check]):
                loss = tf.reduce_sum(loss)  # One value: a reshape could fail before the check.
        else:
            loss = tf.reshape(loss, [])
    if loss.shape.rank is not None and loss.shape.rank != 0:
        raise EstimatorSpecError(
            f"Loss must be scalar, given: {loss.shape} (mode {mode!r}). "
            "Reduce it, e.g. with tf.reduce_mean."
        )
    if not (loss.dtype.is_floating or loss.dtype.is_complex):
        raise EstimatorSpecError(f"Loss must be a floating-point tensor, given dtype {loss.dtype.name}.")
    return loss


def _check_predictions(mode: str, predictions: Any) -> None:
    items = predictions.items() if isinstance(predictions, Mapping) else [(None, predictions)]
    for key, value in items:
        if key is not None and not isinstance(key, str):
            raise EstimatorSpecError(f"EstimatorSpec predictions keys must be strings, got {key!r}.")
        if not tf.is_tensor(value):
            where = "predictions" if key is None else f"predictions[{key!r}]"
            raise EstimatorSpecError(
                f"EstimatorSpec {where} for mode {mode!r} must be a tensor, got "
                f"{type(value).__name__}."
            )


def _check_metrics(eval_metric_ops: Mapping[str, Any] | None) -> dict:
    eval_metric_ops = dict(eval_metric_ops or {})
    for name, metric in eval_metric_ops.items():
        if not isinstance(name, str):
            raise EstimatorSpecError(f"EstimatorSpec eval_metric_ops keys must be strings, got {name!r}.")
        if not (isinstance(metric, keras.metrics.Metric) or is_metric_tuple(metric)):
            raise EstimatorSpecError(
                f"EstimatorSpec eval_metric_ops[{name!r}] must be a keras.metrics.Metric "
                f"updated inside model_fn, or a (value, update_op) tuple of tensors/ops, got "
                f"{_describe(metric)}."
            )
    return eval_metric_ops


def is_metric_tuple(value: Any) -> bool:
    """A tf.estimator metric: `(value tensor, update op or tensor)`."""
    return (isinstance(value, tuple) and len(value) == 2 and tf.is_tensor(value[0])
            and (tf.is_tensor(value[1]) or isinstance(value[1], tf.Operation)))


def _describe(value: Any) -> str:
    if isinstance(value, tuple):
        return f"tuple of {len(value)} ({', '.join(type(v).__name__ for v in value)})"
    return type(value).__name__


def _check_export_outputs(export_outputs: Any) -> None:
    if not isinstance(export_outputs, Mapping):
        raise EstimatorSpecError(
            f"EstimatorSpec export_outputs must be a dict, got {type(export_outputs).__name__}."
        )
    for name, output in export_outputs.items():
        if not isinstance(name, str) or not isinstance(output, ExportOutput):
            raise EstimatorSpecError(
                f"EstimatorSpec export_outputs must map signature names to "
                f"keras_estimator.export outputs (PredictOutput, ...); got {name!r}: "
                f"{type(output).__name__}."
            )
