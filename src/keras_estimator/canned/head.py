"""`Head`: what a premade estimator's network ends in (tf.estimator's `Head` API, on Keras 3).

A head turns logits into predictions, a loss, evaluation metrics and export signatures, and
makes the `EstimatorSpec` for each mode (`create_estimator_spec`). Its metrics are Keras
metrics under tf.estimator's keys (`MetricKeys`), its predictions tf.estimator's
(`PredictionKeys`). The concrete heads are in `classification_heads.py`,
`regression_heads.py` and `multi_head.py`; this module holds what they share.
"""

from __future__ import annotations

import abc
import numbers
from typing import Any, Callable, Mapping, Sequence

import keras
import tensorflow as tf

from keras_estimator import export, fn_args
from keras_estimator.canned.metric_keys import MetricKeys
from keras_estimator.errors import InputError, MissingFeatureError
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.optimization import minimize
from keras_estimator.spec import EstimatorSpec

SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
SUM = "sum"
# tf.keras 2's `Reduction` values and tf.compat.v1.losses.Reduction's, as migrating code passes them.
_REDUCTIONS = {SUM_OVER_BATCH_SIZE: SUM_OVER_BATCH_SIZE, SUM: SUM,
               "weighted_sum_over_batch_size": SUM_OVER_BATCH_SIZE, "weighted_sum": SUM}


class Head(abc.ABC):
    """Interface of every head: loss, predictions, metrics and `create_estimator_spec`.

    Subclasses set `name` (None or a string: a `MultiHead` member's key), `logits_dimension`
    and `loss_reduction`, and implement `loss`, `predictions`, `metrics`, `update_metrics`
    and `export_outputs`.
    """

    name: str | None = None
    logits_dimension: int = 1
    loss_reduction: str = SUM_OVER_BATCH_SIZE

    weight_column: Any = None

    def unreduced_loss(self, labels: Any, logits: tf.Tensor, features: Any = None) -> tf.Tensor:
        """Per-example losses `[batch, d]`, before weights and reduction."""
        raise NotImplementedError(f"{type(self).__name__} defines no per-example loss.")

    def loss(self, labels: Any, logits: tf.Tensor, features: Any = None, mode: str | None = None,
             regularization_losses: Sequence[tf.Tensor] | None = None) -> tf.Tensor:
        """The scalar training loss: per-example losses reduced by `loss_reduction`, weighted
        by the weight column, plus the regularization losses."""
        del mode  # The same in TRAIN and EVAL.
        weights = example_weights(features, self.weight_column, logits)
        loss = reduce_weighted(self.unreduced_loss(labels, logits, features), weights, self.loss_reduction)
        return add_regularization(loss, regularization_losses)

    @abc.abstractmethod
    def predictions(self, logits: tf.Tensor, keys: Sequence[str] | None = None) -> dict[str, tf.Tensor]:
        """The predictions dict (`PredictionKeys`), restricted to `keys` when given."""

    @abc.abstractmethod
    def metrics(self, regularization_losses: Sequence[tf.Tensor] | None = None) -> dict[str, keras.metrics.Metric]:
        """New Keras metrics under tf.estimator's keys (`MetricKeys`), not yet updated."""

    @abc.abstractmethod
    def update_metrics(self, eval_metrics: dict, features: Any, logits: tf.Tensor, labels: Any,
                       regularization_losses: Sequence[tf.Tensor] | None = None) -> dict:
        """Updates `eval_metrics` (from `metrics()`) with one batch; returns them."""

    @abc.abstractmethod
    def export_outputs(self, predictions: dict[str, tf.Tensor]) -> dict[str, Any]:
        """Signature name -> `keras_estimator.export` output, `serving_default` included."""

    def create_estimator_spec(
        self, features: Any, mode: str, logits: tf.Tensor, labels: Any = None,
        optimizer: keras.optimizers.Optimizer | None = None, trainable_variables: Sequence[Any] | None = None,
        train_op_fn: Callable[[tf.Tensor], Any] | None = None, update_ops: Sequence[Any] | None = None,
        regularization_losses: Sequence[tf.Tensor] | None = None,
    ) -> EstimatorSpec:
        """The `EstimatorSpec` of `mode` for these logits, as a model_fn returns it.

        Args:
            features: The model_fn's features (the weight column is read from them).
            mode: A `ModeKeys` value.
            logits: `[batch, logits_dimension]` (a dict of them for a `MultiHead`).
            labels: The model_fn's labels; needed in TRAIN and EVAL.
            optimizer: A Keras optimizer whose update is the TRAIN `train_op`
                (`keras_estimator.minimize`), over `trainable_variables` (default: every
                trainable variable the model_fn made or used).
            train_op_fn: Instead of `optimizer`: a function of the loss returning the train_op.
            update_ops: Ops to run with the train step (grouped into the train_op).
            regularization_losses: Scalars added to the training loss.

        Raises:
            ValueError: in TRAIN without exactly one of `optimizer` and `train_op_fn`, or for
                an unknown mode.
            InputError: in TRAIN or EVAL without labels.
        """
        predictions = self.predictions(logits)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions, export_outputs=self.export_outputs(predictions))
        if mode not in (ModeKeys.TRAIN, ModeKeys.EVAL):
            raise ValueError(f"Unknown mode {mode!r}; expected one of {ModeKeys.TRAIN!r}, {ModeKeys.EVAL!r}, "
                             f"{ModeKeys.PREDICT!r}.")
        if labels is None:
            raise InputError(f"The head needs labels in mode {mode!r}, but input_fn gave none.")
        loss = self.loss(labels, logits, features, mode, regularization_losses)
        if mode == ModeKeys.EVAL:
            metrics = self.update_metrics(self.metrics(regularization_losses), features, logits, labels,
                                          regularization_losses)
            return EstimatorSpec(mode, loss=loss, predictions=predictions, eval_metric_ops=metrics)
        train_op = make_train_op(loss, optimizer, trainable_variables, train_op_fn, update_ops)
        return EstimatorSpec(mode, loss=loss, predictions=predictions, train_op=train_op)


def make_train_op(loss: tf.Tensor, optimizer: Any, trainable_variables: Sequence[Any] | None,
                  train_op_fn: Callable | None, update_ops: Sequence[Any] | None) -> Any:
    """The TRAIN train_op from an optimizer or a `train_op_fn` (exactly one), with update_ops."""
    if (optimizer is None) == (train_op_fn is None):
        raise ValueError("create_estimator_spec in TRAIN needs exactly one of optimizer and train_op_fn, "
                         f"got optimizer={optimizer!r}, train_op_fn={train_op_fn!r}.")
    if optimizer is not None:
        train_op = minimize(loss, optimizer, trainable_variables)
    else:
        train_op = train_op_fn(loss)
    if update_ops:
        with tf.control_dependencies([train_op]):
            train_op = tf.group(*update_ops)
    return train_op


def check_loss_reduction(loss_reduction: str) -> str:
    """The reduction by name ("sum_over_batch_size", the default, or "sum").

    Raises:
        ValueError: for any other value (tf.estimator also refused "none" for a head).
    """
    value = getattr(loss_reduction, "value", loss_reduction)
    if value not in _REDUCTIONS:
        raise ValueError(f"Invalid loss_reduction: {loss_reduction!r}; expected 'sum_over_batch_size' or 'sum'.")
    return _REDUCTIONS[value]


def check_count(value: Any, what: str, minimum: int, owner: str) -> int:
    """An integer (Python or numpy) >= minimum, as int.

    Raises:
        ValueError: naming `what` otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum} for {owner}, got {value!r}.")
    return int(value)


def call_loss_fn(loss_fn: Callable, labels: tf.Tensor, logits: tf.Tensor, features: Any) -> tf.Tensor:
    """A user `loss_fn(labels, logits[, features])` as float32 per-example losses."""
    return tf.cast(fn_args.call(loss_fn, {"labels": labels, "logits": logits, "features": features}), tf.float32)


def check_name(name: str | None) -> str | None:
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"A head's name must be a non-empty string or None, got {name!r}.")
    return name


def example_weights(features: Any, weight_column: Any, logits: tf.Tensor) -> tf.Tensor | float:
    """`[batch, 1]` float weights from the weight column (a key or a numeric column), or 1.0.

    Raises:
        MissingFeatureError: if the features have no such key.
        ValueError: if the weights are not one per example.
    """
    if weight_column is None:
        return 1.0
    key = weight_column if isinstance(weight_column, str) else getattr(weight_column, "key", None)
    if key is None:
        raise ValueError(f"weight_column must be a feature key or a numeric_column, got {weight_column!r}.")
    if not isinstance(features, Mapping) or key not in features:
        have = sorted(features) if isinstance(features, Mapping) else type(features).__name__
        raise MissingFeatureError(f"Weight column {key!r} is not among the features {have}.")
    weights = features[key]
    if isinstance(weights, tf.SparseTensor):
        raise ValueError(f"Weight column {key!r} must be dense, got a SparseTensor.")
    weights = tf.cast(weights, tf.float32)
    normalizer = getattr(weight_column, "normalizer_fn", None)
    if normalizer is not None:
        weights = normalizer(weights)
    return tf.reshape(weights, [tf.shape(logits)[0], 1])


def reduce_weighted(unreduced: tf.Tensor, weights: tf.Tensor | float, reduction: str) -> tf.Tensor:
    """Sum of `unreduced * weights`, divided by its element count for "sum_over_batch_size"
    (tf.estimator 2's default: zero-weight examples still count)."""
    weighted = unreduced * weights
    total = tf.reduce_sum(weighted)
    if reduction == SUM:
        return total
    return total / tf.cast(tf.maximum(tf.size(weighted), 1), total.dtype)


def metric_weights(weights: tf.Tensor | float, values: tf.Tensor) -> tf.Tensor | None:
    """Keras metrics' `sample_weight` for `[batch, d]` values: None for unweighted examples,
    else the `[batch, 1]` weights broadcast to the values."""
    if isinstance(weights, float):
        return None
    return tf.broadcast_to(weights, tf.shape(values))


def update_regularization(eval_metrics: dict, regularization_losses: Sequence[tf.Tensor] | None) -> None:
    """Updates the `regularization_loss` metric, present when regularization losses were given."""
    if MetricKeys.LOSS_REGULARIZATION in eval_metrics:
        eval_metrics[MetricKeys.LOSS_REGULARIZATION].update_state(tf.add_n(list(regularization_losses)))


def add_regularization(loss: tf.Tensor, regularization_losses: Sequence[tf.Tensor] | None) -> tf.Tensor:
    if not regularization_losses:
        return loss
    return loss + tf.add_n([tf.cast(r, loss.dtype) for r in regularization_losses])


def check_logits(logits: Any, dimension: int) -> tf.Tensor:
    """Logits as float `[batch, dimension]`.

    Raises:
        ValueError: if they are not float, or their last dimension is not `dimension`.
    """
    logits = tf.convert_to_tensor(logits)
    if not logits.dtype.is_floating:
        raise ValueError(f"logits must be a float tensor, got {logits.dtype.name}.")
    if logits.shape.rank == 1 and dimension == 1:
        logits = logits[:, tf.newaxis]
    if logits.shape.rank != 2 or logits.shape[-1] not in (None, dimension):
        raise ValueError(f"logits shape must be [batch, {dimension}], got {logits.shape}.")
    return logits


def dense_labels(labels: Any, dimension: int, what: str = "labels") -> tf.Tensor:
    """Labels as a dense `[batch, dimension]` tensor (a `[batch]` vector when dimension is 1).

    Raises:
        ValueError: if they cannot take that shape.
    """
    if isinstance(labels, Mapping):
        raise ValueError(f"{what} must be a tensor, got a dict with keys {sorted(labels)}; a dict of labels "
                         "needs a MultiHead.")
    if isinstance(labels, tf.SparseTensor):
        labels = tf.sparse.to_dense(labels, default_value="" if labels.dtype == tf.string else 0)
    labels = tf.convert_to_tensor(labels)
    if labels.shape.rank == 1 and dimension == 1:
        labels = labels[:, tf.newaxis]
    if labels.shape.rank != 2 or labels.shape[-1] not in (None, dimension):
        raise ValueError(f"Mismatched label shape: {what} must be [batch, {dimension}] (or [batch] for one "
                         f"value), got {labels.shape}.")
    return labels


def default_export_outputs(predictions: dict[str, tf.Tensor], main: Any, **others: Any) -> dict[str, Any]:
    """serving_default (the head's main output), the named others, and `predict` (every prediction)."""
    return {"serving_default": main, **others, "predict": export.PredictOutput(predictions)}
