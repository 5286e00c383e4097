"""`DNNLinearCombinedClassifier`, `DNNLinearCombinedRegressor` and
`DNNLinearCombinedEstimator`: tf.estimator's wide & deep models, the linear part and the DNN
each trained by its own optimizer on the summed logits."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import tensorflow as tf

from keras_estimator.canned import head as head_lib
from keras_estimator.canned import premade
from keras_estimator.estimator import Estimator

_DNN_LEARNING_RATE = 0.001
_LINEAR_LEARNING_RATE = 0.005


class DNNLinearCombinedEstimator(Estimator):
    """Wide (linear) and deep (DNN) parts over feature columns, logits summed, given a head.

    Args:
        head: A `Head`.
        model_dir: Where checkpoints and summaries go (a temporary directory if None).
        linear_feature_columns: Columns of the linear part (any kind), an adapted
            `keras.utils.FeatureSpace`, or None.
        linear_optimizer: The linear part's optimizer: "Ftrl" (default, learning rate
            min(0.005, 1/sqrt(number of columns))), another name, a Keras optimizer, a
            `tf.compat.v1.train` optimizer or a callable.
        dnn_feature_columns: Dense columns of the DNN, an adapted FeatureSpace, or None.
        dnn_optimizer: The DNN's optimizer: "Adagrad" (default, learning rate 0.001), ...
        dnn_hidden_units: Widths of the DNN's hidden layers (needed with dnn_feature_columns).
        dnn_activation_fn: Activation of the hidden layers (default relu).
        dnn_dropout: Fraction of units dropped while training, or None.
        config: A `RunConfig`.
        warm_start_from: A checkpoint path or `WarmStartSettings`.
        batch_norm: Whether each hidden layer is followed by batch normalization.
        linear_sparse_combiner: "sum" (default), "mean" or "sqrtn".

    Raises:
        ValueError: if both column lists are empty, dnn_feature_columns come without
            dnn_hidden_units, or an optimizer is bad.
    """

    def __init__(self, head: head_lib.Head, model_dir: str | None = None,
                 linear_feature_columns: Sequence[Any] | None = None, linear_optimizer: Any = "Ftrl",
                 dnn_feature_columns: Sequence[Any] | None = None, dnn_optimizer: Any = "Adagrad",
                 dnn_hidden_units: Sequence[int] | None = None, dnn_activation_fn: Callable = tf.nn.relu,
                 dnn_dropout: float | None = None, config: Any = None, warm_start_from: Any = None,
                 batch_norm: bool = False, linear_sparse_combiner: str = "sum"):
        linear = premade.optional_columns(linear_feature_columns)
        dnn = premade.optional_columns(dnn_feature_columns)
        if _empty(linear) and _empty(dnn):
            raise ValueError("Either linear_feature_columns or dnn_feature_columns must be defined.")
        units = premade.check_hidden_units(dnn_hidden_units) if not _empty(dnn) else []
        linear_rate = premade.linear_learning_rate(premade.column_count(linear), _LINEAR_LEARNING_RATE)
        make_linear = premade.optimizer_factory(linear_optimizer, linear_rate, "linear_optimizer")
        make_dnn = premade.optimizer_factory(dnn_optimizer, _DNN_LEARNING_RATE, "dnn_optimizer")
        self.head = head

        def model_fn(features, labels, mode):
            parts, optimizers = [], []
            if not _empty(dnn):
                logits, variables = premade.dnn_logits(features, mode, dnn, units, head.logits_dimension,
                                                       dnn_activation_fn, dnn_dropout, batch_norm)
                parts.append(logits)
                optimizers.append((make_dnn, variables))
            if not _empty(linear):
                logits, variables = premade.linear_logits(features, linear, head.logits_dimension,
                                                          linear_sparse_combiner)
                parts.append(logits)
                optimizers.append((make_linear, variables))
            return premade.spec_for(head, features, labels, mode, tf.add_n(parts), optimizers)

        super().__init__(model_fn, model_dir, config, warm_start_from=warm_start_from)


class DNNLinearCombinedClassifier(DNNLinearCombinedEstimator):
    """Wide & deep classifier (tf.estimator.DNNLinearCombinedClassifier).

    Args:
        model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns,
            dnn_optimizer, dnn_hidden_units, dnn_activation_fn, dnn_dropout, config,
            warm_start_from, batch_norm, linear_sparse_combiner: as `DNNLinearCombinedEstimator`.
        n_classes: Number of classes (default 2).
        weight_column: A feature key or numeric_column weighting each example.
        label_vocabulary: Class names when labels are strings.
        loss_reduction: "sum_over_batch_size" (default) or "sum".

    Raises:
        ValueError: as `DNNLinearCombinedEstimator`, and for n_classes < 2 or a bad vocabulary.
    """

    def __init__(self, model_dir: str | None = None, linear_feature_columns: Sequence[Any] | None = None,
                 linear_optimizer: Any = "Ftrl", dnn_feature_columns: Sequence[Any] | None = None,
                 dnn_optimizer: Any = "Adagrad", dnn_hidden_units: Sequence[int] | None = None,
                 dnn_activation_fn: Callable = tf.nn.relu, dnn_dropout: float | None = None, n_classes: int = 2,
                 weight_column: Any = None, label_vocabulary: Sequence[str] | None = None, config: Any = None,
                 warm_start_from: Any = None, loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE,
                 batch_norm: bool = False, linear_sparse_combiner: str = "sum"):
        head = premade.classification_or_regression_head(n_classes, None, weight_column, label_vocabulary,
                                                         loss_reduction)
        super().__init__(head, model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns,
                         dnn_optimizer, dnn_hidden_units, dnn_activation_fn, dnn_dropout, config, warm_start_from,
                         batch_norm, linear_sparse_combiner)


class DNNLinearCombinedRegressor(DNNLinearCombinedEstimator):
    """Wide & deep regressor (tf.estimator.DNNLinearCombinedRegressor).

    Args:
        model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns,
            dnn_optimizer, dnn_hidden_units, dnn_activation_fn, dnn_dropout, config,
            warm_start_from, batch_norm, linear_sparse_combiner: as `DNNLinearCombinedEstimator`.
        label_dimension: Values per example (default 1).
        weight_column: A feature key or numeric_column weighting each example.
        loss_reduction: "sum_over_batch_size" (default) or "sum".

    Raises:
        ValueError: as `DNNLinearCombinedEstimator`, and for label_dimension < 1.
    """

    def __init__(self, model_dir: str | None = None, linear_feature_columns: Sequence[Any] | None = None,
                 linear_optimizer: Any = "Ftrl", dnn_feature_columns: Sequence[Any] | None = None,
                 dnn_optimizer: Any = "Adagrad", dnn_hidden_units: Sequence[int] | None = None,
                 dnn_activation_fn: Callable = tf.nn.relu, dnn_dropout: float | None = None,
                 label_dimension: int = 1, weight_column: Any = None, config: Any = None,
                 warm_start_from: Any = None, loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE,
                 batch_norm: bool = False, linear_sparse_combiner: str = "sum"):
        head = premade.classification_or_regression_head(None, label_dimension, weight_column, None, loss_reduction)
        super().__init__(head, model_dir, linear_feature_columns, linear_optimizer, dnn_feature_columns,
                         dnn_optimizer, dnn_hidden_units, dnn_activation_fn, dnn_dropout, config, warm_start_from,
                         batch_norm, linear_sparse_combiner)


def _empty(columns: Any) -> bool:
    return isinstance(columns, list) and not columns
