"""`DNNClassifier`, `DNNRegressor` and `DNNEstimator`: tf.estimator's feed-forward network
over feature columns, with its constructor arguments."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import tensorflow as tf

from keras_estimator.canned import head as head_lib
from keras_estimator.canned import premade
from keras_estimator.estimator import Estimator


class DNNEstimator(Estimator):
    """A DNN over feature columns ending in a given head.

    Args:
        head: A `Head` (`BinaryClassHead`, `RegressionHead`, ..., `MultiHead`).
        hidden_units: Widths of the hidden layers, e.g. `[64, 32]`.
        feature_columns: Dense `tf.feature_column` columns (numeric, bucketized, indicator,
            embedding) read from the features dict, or an adapted `keras.utils.FeatureSpace`
            (output_mode "concat").
        model_dir: Where checkpoints and summaries go (a temporary directory if None).
        optimizer: "Adagrad" (default), "Adam", "Ftrl", "RMSProp", "SGD" (the class's default
            learning rate, as tf.estimator 2), a Keras optimizer (copied per call), a
            `tf.compat.v1.train` optimizer, or a callable returning one.
        activation_fn: Activation of the hidden layers (default relu).
        dropout: Fraction of units dropped while training, or None.
        config: A `RunConfig`.
        warm_start_from: A checkpoint path or `WarmStartSettings`.
        batch_norm: Whether each hidden layer is followed by batch normalization.

    Raises:
        ValueError: for empty hidden_units or feature_columns, a bad optimizer or dropout.
    """

    _NAMED_OPTIMIZER_RATE: float | None = None  # tf.estimator 2: the class's default rate.

    def __init__(self, head: head_lib.Head, hidden_units: Sequence[int], feature_columns: Sequence[Any],
                 model_dir: str | None = None, optimizer: Any = "Adagrad", activation_fn: Callable = tf.nn.relu,
                 dropout: float | None = None, config: Any = None, warm_start_from: Any = None,
                 batch_norm: bool = False):
        units = premade.check_hidden_units(hidden_units)
        columns = premade.check_columns(feature_columns, "feature_columns")
        make_optimizer = premade.optimizer_factory(optimizer, self._NAMED_OPTIMIZER_RATE)
        if dropout is not None and not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        self.head = head

        def model_fn(features, labels, mode):
            logits, _ = premade.dnn_logits(features, mode, columns, units, head.logits_dimension, activation_fn,
                                           dropout, batch_norm)
            return premade.spec_for(head, features, labels, mode, logits, [(make_optimizer, None)])

        super().__init__(model_fn, model_dir, config, warm_start_from=warm_start_from)


class DNNClassifier(DNNEstimator):
    """A DNN classifier (tf.estimator.DNNClassifier).

    Args:
        hidden_units, feature_columns, model_dir, optimizer, activation_fn, dropout, config,
            warm_start_from, batch_norm: as `DNNEstimator`.
        n_classes: Number of classes (default 2: a `BinaryClassHead`, else `MultiClassHead`).
        weight_column: A feature key or numeric_column weighting each example.
        label_vocabulary: Class names when labels are strings.
        loss_reduction: "sum_over_batch_size" (default) or "sum".

    Raises:
        ValueError: as `DNNEstimator`, and for n_classes < 2 or a bad vocabulary.
    """

    def __init__(self, hidden_units: Sequence[int], feature_columns: Sequence[Any], model_dir: str | None = None,
                 n_classes: int = 2, weight_column: Any = None, label_vocabulary: Sequence[str] | None = None,
                 optimizer: Any = "Adagrad", activation_fn: Callable = tf.nn.relu, dropout: float | None = None,
                 config: Any = None, warm_start_from: Any = None,
                 loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE, batch_norm: bool = False):
        head = premade.classification_or_regression_head(n_classes, None, weight_column, label_vocabulary,
                                                         loss_reduction)
        super().__init__(head, hidden_units, feature_columns, model_dir, optimizer, activation_fn, dropout,
                         config, warm_start_from, batch_norm)


class DNNRegressor(DNNEstimator):
    """A DNN regressor (tf.estimator.DNNRegressor).

    Args:
        hidden_units, feature_columns, model_dir, optimizer, activation_fn, dropout, config,
            warm_start_from, batch_norm: as `DNNEstimator`.
        label_dimension: Values per example (default 1).
        weight_column: A feature key or numeric_column weighting each example.
        loss_reduction: "sum_over_batch_size" (default) or "sum".

    Raises:
        ValueError: as `DNNEstimator`, and for label_dimension < 1.
    """

    def __init__(self, hidden_units: Sequence[int], feature_columns: Sequence[Any], model_dir: str | None = None,
                 label_dimension: int = 1, weight_column: Any = None, optimizer: Any = "Adagrad",
                 activation_fn: Callable = tf.nn.relu, dropout: float | None = None, config: Any = None,
                 warm_start_from: Any = None, loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE,
                 batch_norm: bool = False):
        head = premade.classification_or_regression_head(None, label_dimension, weight_column, None, loss_reduction)
        super().__init__(head, hidden_units, feature_columns, model_dir, optimizer, activation_fn, dropout,
                         config, warm_start_from, batch_norm)
