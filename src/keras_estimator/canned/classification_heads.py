"""Classification heads: `BinaryClassHead`, `MultiClassHead` (`MultiLabelHead` is in
`multi_label_head.py`), with tf.estimator's predictions, metrics and export signatures."""

from __future__ import annotations

from typing import Any, Sequence

import keras
import tensorflow as tf

from keras_estimator import export
from keras_estimator.canned import head as head_lib
from keras_estimator.canned.metric_keys import MetricKeys, PredictionKeys

K, P = MetricKeys, PredictionKeys


class _BaselineAccuracy(keras.metrics.Mean):
    """`accuracy_baseline`: the accuracy of always predicting the majority class,
    max(label mean, 1 - label mean)."""

    def result(self) -> tf.Tensor:
        mean = super().result()
        return tf.maximum(mean, 1.0 - mean)


class MultiClassHead(head_lib.Head):
    """Single-label classification over `n_classes` with softmax cross entropy.

    Args:
        n_classes: Number of classes, at least 2 (use `BinaryClassHead` for 2 to get its
            sigmoid logits and binary metrics).
        weight_column: A feature key or `tf.feature_column.numeric_column` weighting each
            example in the loss and the metrics.
        label_vocabulary: Strings naming the classes: string labels are looked up in it and
            `classes` predictions are its entries. Without it labels are integer class ids in
            `[0, n_classes)` and `classes` are the ids as strings.
        loss_reduction: "sum_over_batch_size" (default: the weighted sum over the batch
            size) or "sum".
        loss_fn: Optional `loss_fn(labels, logits)` returning per-example losses `[batch, 1]`
            in place of softmax cross entropy (labels as class ids).
        name: The head's name in a `MultiHead` (its keys' suffix).

    Raises:
        ValueError: for n_classes < 2 (< 3 here), a label_vocabulary of the wrong length or
            with non-strings, or an unknown loss_reduction.
    """

    _min_classes = 3

    def __init__(self, n_classes: int, weight_column: Any = None, label_vocabulary: Sequence[str] | None = None,
                 loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE, loss_fn: Any = None, name: str | None = None):
        self.n_classes = head_lib.check_count(n_classes, "n_classes", self._min_classes, type(self).__name__)
        self.weight_column = weight_column
        self.label_vocabulary = check_vocabulary(label_vocabulary, n_classes)
        self.loss_reduction = head_lib.check_loss_reduction(loss_reduction)
        self.loss_fn = loss_fn
        self.name = head_lib.check_name(name)

    @property
    def logits_dimension(self) -> int:
        return self.n_classes

    # -- labels, loss, predictions ----------------------------------------------------------
    def label_ids(self, labels: Any) -> tf.Tensor:
        """int64 `[batch, 1]` class ids of the labels (through the vocabulary if any); a label
        outside the classes fails when run, naming the range or the vocabulary."""
        labels = head_lib.dense_labels(labels, 1)
        if self.label_vocabulary is not None:
            if labels.dtype != tf.string:
                raise ValueError(f"Labels must be strings with label_vocabulary, got {labels.dtype.name}.")
            matches = tf.equal(labels, tf.constant(self.label_vocabulary))  # [batch, n_classes]
            found = tf.debugging.assert_equal(
                tf.reduce_any(matches, axis=1), True,
                message=f"Labels must be in label_vocabulary {list(self.label_vocabulary)}")
            with tf.control_dependencies([found]):
                return tf.argmax(tf.cast(matches, tf.int32), axis=1, output_type=tf.int64)[:, tf.newaxis]
        if labels.dtype == tf.string:
            raise ValueError("Labels are strings: give the head (or estimator) label_vocabulary.")
        ids = tf.cast(labels, tf.int64)
        in_range = tf.debugging.assert_equal(
            tf.logical_and(ids >= 0, ids < self.n_classes), True,
            message=f"Labels must be class ids in [0, {self.n_classes - 1}] (n_classes={self.n_classes})")
        with tf.control_dependencies([in_range]):
            return tf.identity(ids)

    def loss_labels(self, labels: Any) -> tf.Tensor:
        """The labels the loss (and a `loss_fn`) takes: class ids `[batch, 1]`."""
        return self.label_ids(labels)

    def unreduced_loss(self, labels: Any, logits: tf.Tensor, features: Any = None) -> tf.Tensor:
        logits = head_lib.check_logits(logits, self.logits_dimension)
        labels = self.loss_labels(labels)
        if self.loss_fn is not None:
            return tf.reshape(head_lib.call_loss_fn(self.loss_fn, labels, logits, features), [-1, 1])
        return self._cross_entropy(labels, logits)

    def _cross_entropy(self, ids: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids[:, 0], logits=logits)[:, tf.newaxis]

    def _class_logits(self, logits: tf.Tensor) -> tf.Tensor:
        """One logit per class (argmax of these, not of rounded probabilities, is the class)."""
        return logits

    def predictions(self, logits, keys=None):
        logits = head_lib.check_logits(logits, self.logits_dimension)
        class_logits = self._class_logits(logits)
        probabilities = tf.nn.softmax(class_logits)
        class_ids = tf.argmax(class_logits, axis=1)[:, tf.newaxis]
        all_ids = tf.tile(tf.range(self.n_classes)[tf.newaxis, :], [tf.shape(logits)[0], 1])
        out = {P.LOGITS: logits, P.PROBABILITIES: probabilities, P.CLASS_IDS: class_ids,
               P.CLASSES: self._class_names(class_ids), P.ALL_CLASS_IDS: all_ids,
               P.ALL_CLASSES: self._class_names(all_ids)}
        return out if keys is None else {k: out[k] for k in keys}

    def _class_names(self, ids: tf.Tensor) -> tf.Tensor:
        if self.label_vocabulary is None:
            return tf.strings.as_string(ids)
        return tf.gather(tf.constant(self.label_vocabulary), ids)

    def export_outputs(self, predictions):
        classification = export.ClassificationOutput(scores=predictions[P.PROBABILITIES],
                                                     classes=predictions[P.ALL_CLASSES])
        return head_lib.default_export_outputs(predictions, classification, classification=classification)

    # -- metrics -----------------------------------------------------------------------------
    def metrics(self, regularization_losses=None):
        metrics = {K.ACCURACY: keras.metrics.Accuracy(name="accuracy"),
                   K.LOSS_MEAN: keras.metrics.Mean(name="average_loss")}
        if regularization_losses:
            metrics[K.LOSS_REGULARIZATION] = keras.metrics.Mean(name="regularization_loss")
        return metrics

    def update_metrics(self, eval_metrics, features, logits, labels, regularization_losses=None):
        weights = head_lib.example_weights(features, self.weight_column, logits)
        ids = self.label_ids(labels)
        class_ids = self.predictions(logits, [P.CLASS_IDS])[P.CLASS_IDS]
        weights = head_lib.metric_weights(weights, ids)
        eval_metrics[K.ACCURACY].update_state(ids, class_ids, sample_weight=weights)
        eval_metrics[K.LOSS_MEAN].update_state(self.unreduced_loss(labels, logits, features), sample_weight=weights)
        head_lib.update_regularization(eval_metrics, regularization_losses)
        return eval_metrics


class BinaryClassHead(MultiClassHead):
    """Two-class classification with one logit and sigmoid cross entropy.

    Args:
        weight_column, label_vocabulary, loss_reduction, loss_fn, name: as `MultiClassHead`
            (label_vocabulary has 2 entries).
        thresholds: Probability thresholds in (0, 1): each adds
            `accuracy/positive_threshold_<t>`, `precision/...` and `recall/...` metrics.

    Raises:
        ValueError: as `MultiClassHead`, and for a threshold outside (0, 1).
    """

    _min_classes = 2

    def __init__(self, weight_column: Any = None, thresholds: Sequence[float] | None = None,
                 label_vocabulary: Sequence[str] | None = None, loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE,
                 loss_fn: Any = None, name: str | None = None):
        super().__init__(2, weight_column, label_vocabulary, loss_reduction, loss_fn, name)
        self.thresholds = tuple(thresholds or ())
        for t in self.thresholds:
            if not 0.0 < t < 1.0:
                raise ValueError(f"thresholds must be in (0, 1), got {t!r}.")

    @property
    def logits_dimension(self) -> int:
        return 1

    def loss_labels(self, labels: Any) -> tf.Tensor:
        """float32 `[batch, 1]` labels in [0, 1]: soft labels are used as given, as tf.estimator did."""
        labels = head_lib.dense_labels(labels, 1)
        if self.label_vocabulary is not None or labels.dtype == tf.string or labels.dtype.is_integer:
            return tf.cast(self.label_ids(labels), tf.float32)
        labels = tf.cast(labels, tf.float32)
        in_range = tf.debugging.assert_equal(tf.logical_and(labels >= 0.0, labels <= 1.0), True,
                                             message="Labels must be in [0, 1] (n_classes=2)")
        with tf.control_dependencies([in_range]):
            return tf.identity(labels)

    def _cross_entropy(self, labels, logits):
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

    def _class_logits(self, logits):
        return tf.concat([tf.zeros_like(logits), logits], axis=1)  # softmax: [1 - p, p]

    def predictions(self, logits, keys=None):
        out = super().predictions(logits)
        out[P.LOGISTIC] = tf.sigmoid(out[P.LOGITS])
        return out if keys is None else {k: out[k] for k in keys}

    def export_outputs(self, predictions):
        outputs = super().export_outputs(predictions)
        return {**outputs, "regression": export.RegressionOutput(predictions[P.LOGISTIC])}

    def metrics(self, regularization_losses=None):
        metrics = super().metrics(regularization_losses)
        metrics.update({
            K.PRECISION: keras.metrics.Precision(name="precision"), K.RECALL: keras.metrics.Recall(name="recall"),
            K.PREDICTION_MEAN: keras.metrics.Mean(name="prediction_mean"),
            K.LABEL_MEAN: keras.metrics.Mean(name="label_mean"),
            K.ACCURACY_BASELINE: _BaselineAccuracy(name="accuracy_baseline"),
            K.AUC: keras.metrics.AUC(curve="ROC", name="auc"),
            K.AUC_PR: keras.metrics.AUC(curve="PR", name="auc_pr"),
        })
        for t in self.thresholds:
            metrics[K.ACCURACY_AT_THRESHOLD % t] = keras.metrics.BinaryAccuracy(threshold=t, name="accuracy_at")
            metrics[K.PRECISION_AT_THRESHOLD % t] = keras.metrics.Precision(thresholds=t, name="precision_at")
            metrics[K.RECALL_AT_THRESHOLD % t] = keras.metrics.Recall(thresholds=t, name="recall_at")
        return metrics

    def update_metrics(self, eval_metrics, features, logits, labels, regularization_losses=None):
        super().update_metrics(eval_metrics, features, logits, labels, regularization_losses)
        ids = self.loss_labels(labels)
        weights = head_lib.metric_weights(head_lib.example_weights(features, self.weight_column, logits), ids)
        predictions = self.predictions(logits, [P.CLASS_IDS, P.LOGISTIC])
        class_ids, logistic = tf.cast(predictions[P.CLASS_IDS], tf.float32), predictions[P.LOGISTIC]
        for key in (K.PRECISION, K.RECALL):
            eval_metrics[key].update_state(ids, class_ids, sample_weight=weights)
        eval_metrics[K.PREDICTION_MEAN].update_state(logistic, sample_weight=weights)
        for key in (K.LABEL_MEAN, K.ACCURACY_BASELINE):
            eval_metrics[key].update_state(ids, sample_weight=weights)
        for key in [K.AUC, K.AUC_PR] + [k for t in self.thresholds for k in (
                K.ACCURACY_AT_THRESHOLD % t, K.PRECISION_AT_THRESHOLD % t, K.RECALL_AT_THRESHOLD % t)]:
            eval_metrics[key].update_state(ids, logistic, sample_weight=weights)
        return eval_metrics


def check_vocabulary(vocabulary: Sequence[str] | None, n_classes: int) -> tuple[str, ...] | None:
    if vocabulary is None:
        return None
    if isinstance(vocabulary, str) or not all(isinstance(v, str) for v in vocabulary):
        raise ValueError(f"label_vocabulary must be a list of strings, got {vocabulary!r}.")
    if len(vocabulary) != n_classes:
        raise ValueError(f"label_vocabulary has {len(vocabulary)} entries, but n_classes is {n_classes}.")
    if len(set(vocabulary)) != len(vocabulary):
        raise ValueError(f"label_vocabulary has duplicates: {list(vocabulary)}.")
    return tuple(vocabulary)
