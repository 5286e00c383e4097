"""`MultiLabelHead`: each example may belong to several of `n_classes` classes (one sigmoid
per class), with tf.estimator's predictions, metrics and export signatures."""

from __future__ import annotations

from typing import Any, Sequence

import keras
import tensorflow as tf

from keras_estimator import export
from keras_estimator.canned import head as head_lib
from keras_estimator.canned.classification_heads import check_vocabulary
from keras_estimator.canned.metric_keys import MetricKeys, PredictionKeys

K, P = MetricKeys, PredictionKeys


class MultiLabelHead(head_lib.Head):
    """Multi-label classification: sigmoid cross entropy per class, averaged over classes.

    Args:
        n_classes: Number of classes, at least 2.
        weight_column: A feature key or numeric_column weighting each example.
        thresholds: Probability thresholds in (0, 1) adding `accuracy/positive_threshold_<t>`,
            `precision/...` and `recall/...` metrics over all (example, class) pairs.
        label_vocabulary: Class names: labels are then strings, a `SparseTensor` or a dense
            `[batch, k]` tensor padded with "". Without it labels are a multi-hot
            `[batch, n_classes]` tensor of 0/1, or a `SparseTensor` of class ids.
        loss_reduction: "sum_over_batch_size" (default) or "sum".
        loss_fn: Optional `loss_fn(labels, logits)` with multi-hot labels, returning
            per-example losses `[batch, 1]`.
        classes_for_class_based_metrics: Class ids (or names, with a vocabulary) that get
            `probability_mean/class<i>`, `auc/class<i>` and `auc_precision_recall/class<i>`.
        name: The head's name in a `MultiHead`.

    Raises:
        ValueError: for n_classes < 2, a bad vocabulary, threshold or class for metrics.
    """

    def __init__(self, n_classes: int, weight_column: Any = None, thresholds: Sequence[float] | None = None,
                 label_vocabulary: Sequence[str] | None = None, loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE,
                 loss_fn: Any = None, classes_for_class_based_metrics: Sequence[Any] | None = None,
                 name: str | None = None):
        self.n_classes = head_lib.check_count(n_classes, "n_classes", 2, "MultiLabelHead")
        self.weight_column = weight_column
        self.thresholds = tuple(thresholds or ())
        if any(not 0.0 < t < 1.0 for t in self.thresholds):
            raise ValueError(f"thresholds must be in (0, 1), got {list(self.thresholds)}.")
        self.label_vocabulary = check_vocabulary(label_vocabulary, n_classes)
        self.loss_reduction = head_lib.check_loss_reduction(loss_reduction)
        self.loss_fn = loss_fn
        self.class_ids_for_metrics = [self._class_id(c) for c in classes_for_class_based_metrics or ()]
        self.name = head_lib.check_name(name)

    @property
    def logits_dimension(self) -> int:
        return self.n_classes

    def _class_id(self, c: Any) -> int:
        if isinstance(c, str) and self.label_vocabulary is not None and c in self.label_vocabulary:
            return self.label_vocabulary.index(c)
        if isinstance(c, int) and not isinstance(c, bool) and 0 <= c < self.n_classes:
            return c
        raise ValueError(f"classes_for_class_based_metrics: {c!r} is not a class of this head.")

    def multi_hot(self, labels: Any) -> tf.Tensor:
        """float32 `[batch, n_classes]` 0/1 labels."""
        if self.label_vocabulary is not None:
            dense = labels if not isinstance(labels, tf.SparseTensor) else tf.sparse.to_dense(labels, "")
            dense = tf.convert_to_tensor(dense)
            if dense.dtype != tf.string:
                raise ValueError(f"Labels must be strings with label_vocabulary, got {dense.dtype.name}.")
            dense = tf.reshape(dense, [tf.shape(dense)[0], -1])
            hits = tf.equal(dense[:, :, tf.newaxis], tf.constant(self.label_vocabulary))
            return tf.cast(tf.reduce_any(hits, axis=1), tf.float32)
        if isinstance(labels, tf.SparseTensor):
            ids = tf.sparse.to_dense(labels, default_value=-1)
            return tf.reduce_max(tf.one_hot(ids, self.n_classes), axis=1)
        labels = head_lib.dense_labels(labels, self.n_classes)
        valid = tf.debugging.assert_equal(tf.logical_or(labels == 0, labels == 1), True,
                                          message="MultiLabelHead labels must be 0 or 1 (multi-hot)")
        with tf.control_dependencies([valid]):
            return tf.cast(labels, tf.float32)

    def unreduced_loss(self, labels: Any, logits: tf.Tensor, features: Any = None) -> tf.Tensor:
        logits = head_lib.check_logits(logits, self.n_classes)
        hot = self.multi_hot(labels)
        if self.loss_fn is not None:
            return tf.reshape(head_lib.call_loss_fn(self.loss_fn, hot, logits, features), [-1, 1])
        losses = tf.nn.sigmoid_cross_entropy_with_logits(labels=hot, logits=logits)
        return tf.reduce_mean(losses, axis=1, keepdims=True)

    def predictions(self, logits, keys=None):
        logits = head_lib.check_logits(logits, self.n_classes)
        all_ids = tf.tile(tf.range(self.n_classes)[tf.newaxis, :], [tf.shape(logits)[0], 1])
        names = (tf.strings.as_string(all_ids) if self.label_vocabulary is None
                 else tf.gather(tf.constant(self.label_vocabulary), all_ids))
        out = {P.LOGITS: logits, P.PROBABILITIES: tf.sigmoid(logits), P.ALL_CLASS_IDS: all_ids,
               P.ALL_CLASSES: names}
        return out if keys is None else {k: out[k] for k in keys}

    def export_outputs(self, predictions):
        classification = export.ClassificationOutput(scores=predictions[P.PROBABILITIES],
                                                     classes=predictions[P.ALL_CLASSES])
        return head_lib.default_export_outputs(predictions, classification, classification=classification)

    def metrics(self, regularization_losses=None):
        metrics = {K.LOSS_MEAN: keras.metrics.Mean(name="average_loss"),
                   K.AUC: keras.metrics.AUC(curve="ROC", name="auc"),
                   K.AUC_PR: keras.metrics.AUC(curve="PR", name="auc_pr")}
        for t in self.thresholds:
            metrics[K.ACCURACY_AT_THRESHOLD % t] = keras.metrics.BinaryAccuracy(threshold=t, name="accuracy_at")
            metrics[K.PRECISION_AT_THRESHOLD % t] = keras.metrics.Precision(thresholds=t, name="precision_at")
            metrics[K.RECALL_AT_THRESHOLD % t] = keras.metrics.Recall(thresholds=t, name="recall_at")
        for c in self.class_ids_for_metrics:
            metrics[K.PROBABILITY_MEAN_AT_CLASS % c] = keras.metrics.Mean(name="probability_mean")
            metrics[K.AUC_AT_CLASS % c] = keras.metrics.AUC(curve="ROC", name="auc_class")
            metrics[K.AUC_PR_AT_CLASS % c] = keras.metrics.AUC(
                curve="PR", name="auc_pr_class")
        if regularization_losses:
            metrics[K.LOSS_REGULARIZATION] = keras.metrics.Mean(name="regularization_loss")
        return metrics

    def update_metrics(self, eval_metrics, features, logits, labels, regularization_losses=None):
        weights = head_lib.example_weights(features, self.weight_column, logits)
        hot, probabilities = self.multi_hot(labels), tf.sigmoid(head_lib.check_logits(logits, self.n_classes))
        eval_metrics[K.LOSS_MEAN].update_state(self.unreduced_loss(labels, logits, features),
                                               sample_weight=head_lib.metric_weights(weights, logits[:, :1]))
        every = head_lib.metric_weights(weights, hot)
        for key in [K.AUC, K.AUC_PR] + [k for t in self.thresholds for k in (
                K.ACCURACY_AT_THRESHOLD % t, K.PRECISION_AT_THRESHOLD % t, K.RECALL_AT_THRESHOLD % t)]:
            eval_metrics[key].update_state(hot, probabilities, sample_weight=every)
        one = head_lib.metric_weights(weights, hot[:, :1])
        for c in self.class_ids_for_metrics:
            eval_metrics[K.PROBABILITY_MEAN_AT_CLASS % c].update_state(probabilities[:, c:c + 1], sample_weight=one)
            for key in (K.AUC_AT_CLASS % c, K.AUC_PR_AT_CLASS % c):
                eval_metrics[key].update_state(hot[:, c:c + 1], probabilities[:, c:c + 1], sample_weight=one)
        head_lib.update_regularization(eval_metrics, regularization_losses)
        return eval_metrics
