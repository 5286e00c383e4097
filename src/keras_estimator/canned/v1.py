"""`tf.compat.v1.estimator`'s premade estimators: the same models with tf.estimator 1's
defaults, which TF1-era programs were tuned for: losses summed over the batch
(`loss_reduction="sum"`, so `evaluate`'s `loss` is a batch's sum) and, for the DNN, a named
optimizer at learning rate 0.05. The session-only partitioner arguments are accepted and
ignored, with a warning."""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

import tensorflow as tf

from keras_estimator.canned import baseline, dnn, dnn_linear_combined, linear

logger = logging.getLogger("keras_estimator")
_SUM = "sum"


def _ignored(**partitioners: Any) -> None:
    given = sorted(name for name, value in partitioners.items() if value is not None)
    if given:
        logger.warning("%s: variable partitioners are for TF1 parameter servers; ignored.", ", ".join(given))


class DNNClassifier(dnn.DNNClassifier):
    """tf.compat.v1.estimator.DNNClassifier: `dnn.DNNClassifier` with loss_reduction "sum" and
    a named optimizer at learning rate 0.05."""

    _NAMED_OPTIMIZER_RATE = 0.05

    def __init__(self, hidden_units: Sequence[int], feature_columns: Sequence[Any], model_dir: str | None = None,
                 n_classes: int = 2, weight_column: Any = None, label_vocabulary: Sequence[str] | None = None,
                 optimizer: Any = "Adagrad", activation_fn: Callable = tf.nn.relu, dropout: float | None = None,
                 input_layer_partitioner: Any = None, config: Any = None, warm_start_from: Any = None,
                 loss_reduction: str = _SUM, batch_norm: bool = False):
        _ignored(input_layer_partitioner=input_layer_partitioner)
        super().__init__(hidden_units, feature_columns, model_dir, n_classes, weight_column, label_vocabulary,
                         optimizer, activation_fn, dropout, config, warm_start_from, loss_reduction, batch_norm)


class DNNRegressor(dnn.DNNRegressor):
    """tf.compat.v1.estimator.DNNRegressor: loss_reduction "sum", a named optimizer at 0.05."""

    _NAMED_OPTIMIZER_RATE = 0.05

    def __init__(self, hidden_units: Sequence[int], feature_columns: Sequence[Any], model_dir: str | None = None,
                 label_dimension: int = 1, weight_column: Any = None, optimizer: Any = "Adagrad",
                 activation_fn: Callable = tf.nn.relu, dropout: float | None = None, input_layer_partitioner: Any = None,
                 config: Any = None, warm_start_from: Any = None, loss_reduction: str = _SUM,
                 batch_norm: bool = False):
        _ignored(input_layer_partitioner=input_layer_partitioner)
        super().__init__(hidden_units, feature_columns, model_dir, label_dimension, weight_column, optimizer,
                         activation_fn, dropout, config, warm_start_from, loss_reduction, batch_norm)


class LinearClassifier(linear.LinearClassifier):
    """tf.compat.v1.estimator.LinearClassifier: loss_reduction "sum"."""

    def __init__(self, feature_columns: Sequence[Any], model_dir: str | None = None, n_classes: int = 2,
                 weight_column: Any = None, label_vocabulary: Sequence[str] | None = None, optimizer: Any = "Ftrl",
                 config: Any = None, partitioner: Any = None, warm_start_from: Any = None,
                 loss_reduction: str = _SUM, sparse_combiner: str = "sum"):
        _ignored(partitioner=partitioner)
        super().__init__(feature_columns, model_dir, n_classes, weight_column, label_vocabulary, optimizer, config,
                         warm_start_from, loss_reduction, sparse_combiner)


class LinearRegressor(linear.LinearRegressor):
    """tf.compat.v1.estimator.LinearRegressor: loss_reduction "sum"."""

    def __init__(self, feature_columns: Sequence[Any], model_dir: str | None = None, label_dimension: int = 1,
                 weight_column: Any = None, optimizer: Any = "Ftrl", config: Any = None, partitioner: Any = None,
                 warm_start_from: Any = None, loss_reduction: str = _SUM, sparse_combiner: str = "sum"):
        _ignored(partitioner=partitioner)
        super().__init__(feature_columns, model_dir, label_dimension, weight_column, optimizer, config,
                         warm_start_from, loss_reduction, sparse_combiner)


class DNNLinearCombinedClassifier(dnn_linear_combined.DNNLinearCombinedClassifier):
    """tf.compat.v1.estimator.DNNLinearCombinedClassifier: loss_reduction "sum"."""

    def __init__(self, model_dir: str | None = None, linear_feature_columns: Sequence[Any] | None = None,
                 linear_optimizer: Any = "Ftrl", dnn_feature_columns: Sequence[Any] | None = None,
                 dnn_optimizer: Any = "Adagrad", dnn_hidden_units: Sequence[int] | None = None,
                 dnn_activation_fn: Callable = tf.nn.relu, dnn_dropout: float | None = None, n_classes: int = 2,
                 weight_column: Any = None, label_vocabulary: Sequence[str] | None = None,
                 input_layer_partitioner: Any = None, config: Any = None, warm_start_from: Any = None,
                 loss_reduction: str = _SUM, batch_norm: bool = False, linear_sparse_combiner: str = "sum"):
        _ignored(input_layer_partitioner=input_layer_partitioner)
        super().__init__(model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns, dnn_optimizer,
                         dnn_hidden_units, dnn_activation_fn, dnn_dropout, n_classes, weight_column, label_vocabulary,
                         config, warm_start_from, loss_reduction, batch_norm, linear_sparse_combiner)


class DNNLinearCombinedRegressor(dnn_linear_combined.DNNLinearCombinedRegressor):
    """tf.compat.v1.estimator.DNNLinearCombinedRegressor: loss_reduction "sum"."""

    def __init__(self, model_dir: str | None = None, linear_feature_columns: Sequence[Any] | None = None,
                 linear_optimizer: Any = "Ftrl", dnn_feature_columns: Sequence[Any] | None = None,
                 dnn_optimizer: Any = "Adagrad", dnn_hidden_units: Sequence[int] | None = None,
                 dnn_activation_fn: Callable = tf.nn.relu, dnn_dropout: float | None = None, label_dimension: int = 1,
                 weight_column: Any = None, input_layer_partitioner: Any = None, config: Any = None,
                 warm_start_from: Any = None, loss_reduction: str = _SUM, batch_norm: bool = False,
                 linear_sparse_combiner: str = "sum"):
        _ignored(input_layer_partitioner=input_layer_partitioner)
        super().__init__(model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns, dnn_optimizer,
                         dnn_hidden_units, dnn_activation_fn, dnn_dropout, label_dimension, weight_column, config,
                         warm_start_from, loss_reduction, batch_norm, linear_sparse_combiner)


class BaselineClassifier(baseline.BaselineClassifier):
    """tf.compat.v1.estimator.BaselineClassifier: loss_reduction "sum"."""

    def __init__(self, model_dir: str | None = None, n_classes: int = 2, weight_column: Any = None,
                 label_vocabulary: Sequence[str] | None = None, optimizer: Any = "Ftrl", config: Any = None,
                 loss_reduction: str = _SUM):
        super().__init__(model_dir, n_classes, weight_column, label_vocabulary, optimizer, config, loss_reduction)


class BaselineRegressor(baseline.BaselineRegressor):
    """tf.compat.v1.estimator.BaselineRegressor: loss_reduction "sum"."""

    def __init__(self, model_dir: str | None = None, label_dimension: int = 1, weight_column: Any = None,
                 optimizer: Any = "Ftrl", config: Any = None, loss_reduction: str = _SUM):
        super().__init__(model_dir, label_dimension, weight_column, optimizer, config, loss_reduction)
