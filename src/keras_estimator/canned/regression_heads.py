"""Regression heads: `RegressionHead` (squared error), `PoissonRegressionHead` and
`LogisticRegressionHead`, with tf.estimator's predictions, metrics and export signatures."""

from __future__ import annotations

from typing import Any, Callable

import keras
import tensorflow as tf

from keras_estimator import export
from keras_estimator.canned import head as head_lib
from keras_estimator.canned.metric_keys import MetricKeys, PredictionKeys

K, P = MetricKeys, PredictionKeys


class RegressionHead(head_lib.Head):
    """Regression of `label_dimension` values per example, mean squared error by default.

    Args:
        label_dimension: Values per example: labels and logits are `[batch, label_dimension]`.
        weight_column: A feature key or `tf.feature_column.numeric_column` weighting each
            example in the loss and the metrics.
        loss_reduction: "sum_over_batch_size" (default) or "sum".
        loss_fn: Optional `loss_fn(labels, logits)` returning per-example losses in place of
            squared error (`[batch, label_dimension]` or `[batch, 1]`).
        inverse_link_fn: Optional function from logits to predictions (then `logits` are
            predicted too), as for generalized linear models.
        name: The head's name in a `MultiHead`.

    Raises:
        ValueError: for label_dimension < 1 or an unknown loss_reduction.
    """

    def __init__(self, label_dimension: int = 1, weight_column: Any = None,
                 loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE, loss_fn: Callable | None = None,
                 inverse_link_fn: Callable | None = None, name: str | None = None):
        self.label_dimension = head_lib.check_count(label_dimension, "label_dimension", 1, type(self).__name__)
        self.weight_column = weight_column
        self.loss_reduction = head_lib.check_loss_reduction(loss_reduction)
        self.loss_fn = loss_fn
        self.inverse_link_fn = inverse_link_fn
        self.name = head_lib.check_name(name)

    @property
    def logits_dimension(self) -> int:
        return self.label_dimension

    def _labels(self, labels: Any) -> tf.Tensor:
        labels = head_lib.dense_labels(labels, self.label_dimension)
        if labels.dtype == tf.string:
            raise ValueError("Regression labels must be numbers, got strings.")
        return tf.cast(labels, tf.float32)

    def _pointwise_loss(self, labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        return tf.math.squared_difference(logits, labels)

    def unreduced_loss(self, labels: Any, logits: tf.Tensor, features: Any = None) -> tf.Tensor:
        logits = head_lib.check_logits(logits, self.label_dimension)
        labels = self._labels(labels)
        if self.loss_fn is not None:
            return head_lib.call_loss_fn(self.loss_fn, labels, logits, features)
        return self._pointwise_loss(labels, logits)

    def predictions(self, logits, keys=None):
        logits = head_lib.check_logits(logits, self.label_dimension)
        if self.inverse_link_fn is None:
            out = {P.PREDICTIONS: logits}
        else:
            out = {P.PREDICTIONS: self.inverse_link_fn(logits), P.LOGITS: logits}
        return out if keys is None else {k: out[k] for k in keys}

    def export_outputs(self, predictions):
        regression = export.RegressionOutput(predictions[P.PREDICTIONS])
        if self.label_dimension != 1:  # A regression signature holds one value per example.
            return head_lib.default_export_outputs(predictions, export.PredictOutput(predictions))
        return head_lib.default_export_outputs(predictions, regression, regression=regression)

    def metrics(self, regularization_losses=None):
        metrics = {K.LOSS_MEAN: keras.metrics.Mean(name="average_loss"),
                   K.PREDICTION_MEAN: keras.metrics.Mean(name="prediction_mean"),
                   K.LABEL_MEAN: keras.metrics.Mean(name="label_mean")}
        if regularization_losses:
            metrics[K.LOSS_REGULARIZATION] = keras.metrics.Mean(name="regularization_loss")
        return metrics

    def update_metrics(self, eval_metrics, features, logits, labels, regularization_losses=None):
        weights = head_lib.example_weights(features, self.weight_column, logits)
        unreduced = self.unreduced_loss(labels, logits, features)
        eval_metrics[K.LOSS_MEAN].update_state(unreduced, sample_weight=head_lib.metric_weights(weights, unreduced))
        values = self._labels(labels)
        predicted = self.predictions(logits, [P.PREDICTIONS])[P.PREDICTIONS]
        eval_metrics[K.PREDICTION_MEAN].update_state(predicted, sample_weight=head_lib.metric_weights(weights, predicted))
        eval_metrics[K.LABEL_MEAN].update_state(values, sample_weight=head_lib.metric_weights(weights, values))
        head_lib.update_regularization(eval_metrics, regularization_losses)
        return eval_metrics


class PoissonRegressionHead(RegressionHead):
    """Regression of counts: Poisson loss on log-rate logits, predictions `exp(logits)`.

    Args:
        label_dimension, weight_column, loss_reduction, name: as `RegressionHead`.
        compute_full_loss: Whether the loss includes Stirling's approximation of log(label!)
            (tf.estimator's default True), which does not change the gradients.

    Raises:
        ValueError: as `RegressionHead`.
    """

    def __init__(self, label_dimension: int = 1, weight_column: Any = None,
                 loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE, compute_full_loss: bool = True,
                 name: str | None = None):
        super().__init__(label_dimension, weight_column, loss_reduction, inverse_link_fn=tf.exp, name=name)
        self.compute_full_loss = bool(compute_full_loss)

    def _pointwise_loss(self, labels, logits):
        return tf.nn.log_poisson_loss(labels, logits, compute_full_loss=self.compute_full_loss)


class LogisticRegressionHead(RegressionHead):
    """Regression of values in [0, 1] (rates, probabilities): sigmoid cross entropy on the
    logits, predictions `sigmoid(logits)`; a label outside [0, 1] fails when run.

    Args:
        weight_column, loss_reduction, name: as `RegressionHead` (one value per example).
    """

    def __init__(self, weight_column: Any = None, loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE,
                 name: str | None = None):
        super().__init__(1, weight_column, loss_reduction, inverse_link_fn=tf.sigmoid, name=name)

    def _pointwise_loss(self, labels, logits):
        in_range = tf.debugging.assert_equal(
            tf.logical_and(labels >= 0.0, labels <= 1.0), True,
            message="LogisticRegressionHead labels must be in [0, 1]")
        with tf.control_dependencies([in_range]):
            return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

