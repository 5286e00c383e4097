"""`BaselineClassifier`, `BaselineRegressor` and `BaselineEstimator`: tf.estimator's models
that ignore the features and learn the label distribution (one bias per output), the bar any
real model must clear."""

from __future__ import annotations

from typing import Any, Sequence

from keras_estimator.canned import head as head_lib
from keras_estimator.canned import premade
from keras_estimator.estimator import Estimator

_LEARNING_RATE = 0.3  # tf.estimator's baseline learning rate.


class BaselineEstimator(Estimator):
    """Logits that are one learned bias per output, the same for every example.

    Args:
        head: A `Head`.
        model_dir: Where checkpoints and summaries go (a temporary directory if None).
        optimizer: "Ftrl" (default), "Adagrad", "Adam", "RMSProp", "SGD" (learning rate 0.3),
            a Keras optimizer (copied per call), a `tf.compat.v1.train` optimizer, or a callable.
        config: A `RunConfig`.

    Raises:
        ValueError: for a bad optimizer.
    """

    def __init__(self, head: head_lib.Head, model_dir: str | None = None, optimizer: Any = "Ftrl",
                 config: Any = None):
        make_optimizer = premade.optimizer_factory(optimizer, _LEARNING_RATE)
        self.head = head

        def model_fn(features, labels, mode):
            logits = premade.bias_logits(features, head.logits_dimension)
            return premade.spec_for(head, features, labels, mode, logits, [(make_optimizer, None)])

        super().__init__(model_fn, model_dir, config)


class BaselineClassifier(BaselineEstimator):
    """Predicts each class's frequency in the training labels (tf.estimator.BaselineClassifier).

    Args:
        model_dir, optimizer, config: as `BaselineEstimator`.
        n_classes: Number of classes (default 2).
        weight_column: A feature key or numeric_column weighting each example.
        label_vocabulary: Class names when labels are strings.
        loss_reduction: "sum_over_batch_size" (default) or "sum".

    Raises:
        ValueError: as `BaselineEstimator`, and for n_classes < 2 or a bad vocabulary.
    """

    def __init__(self, model_dir: str | None = None, n_classes: int = 2, weight_column: Any = None,
                 label_vocabulary: Sequence[str] | None = None, optimizer: Any = "Ftrl", config: Any = None,
                 loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE):
        head = premade.classification_or_regression_head(n_classes, None, weight_column, label_vocabulary,
                                                         loss_reduction)
        super().__init__(head, model_dir, optimizer, config)


class BaselineRegressor(BaselineEstimator):
    """Predicts the mean of the training labels (tf.estimator.BaselineRegressor).

    Args:
        model_dir, optimizer, config: as `BaselineEstimator`.
        label_dimension: Values per example (default 1).
        weight_column: A feature key or numeric_column weighting each example.
        loss_reduction: "sum_over_batch_size" (default) or "sum".

    Raises:
        ValueError: as `BaselineEstimator`, and for label_dimension < 1.
    """

    def __init__(self, model_dir: str | None = None, label_dimension: int = 1, weight_column: Any = None,
                 optimizer: Any = "Ftrl", config: Any = None, loss_reduction: str = head_lib.SUM_OVER_BATCH_SIZE):
        head = premade.classification_or_regression_head(None, label_dimension, weight_column, None, loss_reduction)
        super().__init__(head, model_dir, optimizer, config)
