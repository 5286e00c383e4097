"""`LinearClassifier`, `LinearRegressor` and `LinearEstimator`: tf.estimator's linear model
over feature columns (categorical ones without indicator wrapping), FTRL by default."""

from __future__ import annotations

from typing import Any, Sequence

from keras_estimator.canned import head as head_lib
from keras_estimator.canned import premade
from keras_estimator.estimator import Estimator

_LEARNING_RATE = 0.2  # tf.estimator's cap on the default linear learning rate.


class LinearEstimator(Estimator):
    """A linear model over feature columns ending in a given head.

    Args:
        head: A `Head`.
        feature_columns: `tf.feature_column` columns of any kind: categorical, bucketized and
            crossed columns get one weight per bucket, dense ones one per value. Or an adapted
            `keras.utils.FeatureSpace` (output_mode "concat"): one weight per output value.
        model_dir: Where checkpoints and summaries go (a temporary directory if None).
        optimizer: "Ftrl" (default), "Adagrad", "Adam", "RMSProp", "SGD" (learning rate 0.2, as
            tf.estimator), None (Ftrl at min(0.2, 1/sqrt(number of columns))), a Keras
            optimizer (copied per call), a `tf.compat.v1.train` optimizer, or a callable.
        config: A `RunConfig`.
        warm_start_from: A checkpoint path or `WarmStartSettings`.
        sparse_combiner: "sum" (default), "mean" or "sqrtn": how a categorical column's
            several values in one example combine.

    Raises:
        ValueError: for empty feature_columns, a bad optimizer or sparse_combiner.
    """

    def __init__(self, head: head_lib.Head, feature_columns: Sequence[Any], model_dir: str | None = None,
                 optimizer: Any = "Ftrl", config: Any = None, warm_start_from: Any = None,
                 sparse_combiner: str = "sum"):
        columns = premade.check_columns(feature_columns, "feature_columns")
        if sparse_combiner not in ("sum", "mean", "sqrtn"):
            raise ValueError(f"sparse_combiner must be 'sum', 'mean' or 'sqrtn', got {sparse_combiner!r}.")
        if optimizer is None:  # tf.estimator's default optimizer; a name gets 0.2.
            optimizer = "Ftrl"
            rate = premade.linear_learning_rate(premade.column_count(columns), _LEARNING_RATE)
        else:
            rate = _LEARNING_RATE
        make_optimizer = premade.optimizer_factory(optimizer, rate)
        self.head = head

        def model_fn(features, labels, mode):
            logits, _ = premade.linear_logits(features, columns, head.logits_dimension, sparse_combiner)
            return premade.spec_for(head, features, labels, mode, logits, [(make_optimizer, None)])

        super().__init__(model_fn, model_dir, config, warm_start_from=warm_start_from)


class LinearClassifier(LinearEstimator):
    """A linear classifier (tf.estimator.LinearClassifier): logistic regression for 2
    classes, softmax regression for more.

    Args:
        feature_columns, model_dir, optimizer, config, warm_start_from, sparse_combiner: as
            `LinearEstimator`.
        n_classes: Number of classes (default 2).
        weight_column: A feature key or numeric_column weighting each example.
        label_vocabulary: Class names when labels are strings.
        loss_reduction: "sum_over_batch_size" (default) or "sum".

    Raises:
        ValueError: as `LinearEstimator`, and for n_classes < 2 or a bad vocabulary.
    """

    def __init__(self, feature_columns: Sequence[Any], model_dir: str | None = None, n_classes: int = 2,
                 weight_column: Any = None, label_vocabulary: Sequence[str] | None = None, optimizer: Any = "Ftrl",
                 config: Any = None, warm_start_from: Any = None,
                 loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE, sparse_combiner: str = "sum"):
        head = premade.classification_or_regression_head(n_classes, None, weight_column, label_vocabulary,
                                                         loss_reduction)
        super().__init__(head, feature_columns, model_dir, optimizer, config, warm_start_from, sparse_combiner)


class LinearRegressor(LinearEstimator):
    """A linear regressor (tf.estimator.LinearRegressor).

    Args:
        feature_columns, model_dir, optimizer, config, warm_start_from, sparse_combiner: as
            `LinearEstimator`.
        label_dimension: Values per example (default 1).
        weight_column: A feature key or numeric_column weighting each example.
        loss_reduction: "sum_over_batch_size" (default) or "sum".

    Raises:
        ValueError: as `LinearEstimator`, and for label_dimension < 1.
    """

    def __init__(self, feature_columns: Sequence[Any], model_dir: str | None = None, label_dimension: int = 1,
                 weight_column: Any = None, optimizer: Any = "Ftrl", config: Any = None, warm_start_from: Any = None,
                 loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE, sparse_combiner: str = "sum"):
        head = premade.classification_or_regression_head(None, label_dimension, weight_column, None, loss_reduction)
        super().__init__(head, feature_columns, model_dir, optimizer, config, warm_start_from, sparse_combiner)
