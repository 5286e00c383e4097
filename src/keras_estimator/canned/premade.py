"""What the premade estimators share: optimizers given by name, instance or callable; the
DNN, linear and bias networks; the model_fn that joins a network to a head."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import keras
import tensorflow as tf

from keras_estimator import _compat
from keras_estimator.canned import head as head_lib
from keras_estimator.canned.classification_heads import BinaryClassHead, MultiClassHead
from keras_estimator.canned.linear_model import LinearModel
from keras_estimator.canned.regression_heads import RegressionHead
from keras_estimator.feature_columns import DenseFeatures
from keras_estimator.mode_keys import ModeKeys

# tf.estimator 2's names (its Keras optimizers); Keras 3 has each.
OPTIMIZERS = {"Adagrad": keras.optimizers.Adagrad, "Adam": keras.optimizers.Adam, "Ftrl": keras.optimizers.Ftrl,
              "RMSProp": keras.optimizers.RMSprop, "SGD": keras.optimizers.SGD}


def optimizer_factory(optimizer: Any, learning_rate: float | None, what: str = "optimizer") -> Callable[[], Any]:
    """Checks an optimizer argument when the estimator is made; returns what makes a fresh
    optimizer for each model_fn call: by name (with `learning_rate`, else the class's
    default), a copy of a Keras optimizer instance (its variables are then the Estimator's,
    checkpointed under deterministic names; its config is read now, eagerly), or what a
    callable returns. A `tf.compat.v1.train` optimizer is used as it is.

    Raises:
        ValueError: for an unknown name or an object that is neither an optimizer nor
            callable; when called, if the callable returned something else.
    """
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"Unsupported {what} name: {optimizer!r}. Supported names are: "
                             f"{tuple(sorted(OPTIMIZERS))}.")
        cls = OPTIMIZERS[optimizer]
        return (lambda: cls(learning_rate=learning_rate)) if learning_rate else cls
    if _is_v1_optimizer(optimizer):
        return lambda: optimizer
    if isinstance(optimizer, keras.optimizers.Optimizer):
        cls, config = type(optimizer), optimizer.get_config()
        return lambda: cls.from_config(config)
    if not callable(optimizer):
        raise ValueError(f"{what} must be a name ({', '.join(sorted(OPTIMIZERS))}), a Keras optimizer, a "
                         f"tf.compat.v1.train optimizer or a callable returning one; got {optimizer!r}.")

    def made() -> Any:
        value = optimizer()
        if not (isinstance(value, keras.optimizers.Optimizer) or _is_v1_optimizer(value)):
            raise ValueError(f"The {what} callable must return an optimizer, returned {value!r}.")
        return value

    return made


def _is_v1_optimizer(optimizer: Any) -> bool:
    return isinstance(optimizer, tf.compat.v1.train.Optimizer)


def minimize_op(loss: tf.Tensor, optimizer: Any, var_list: Sequence[Any] | None) -> Any:
    """The train_op of one optimizer over `var_list`, Keras 3 or tf.compat.v1 (which takes the
    tf.Variables behind Keras variables)."""
    if _is_v1_optimizer(optimizer):
        variables = None if var_list is None else [_compat.backing_variable(v) for v in var_list]
        return optimizer.minimize(loss, var_list=variables)
    return head_lib.make_train_op(loss, optimizer, var_list, None, None)


def linear_learning_rate(n_columns: int, cap: float) -> float:
    """tf.estimator's default for the linear part: min(cap, 1/sqrt(number of columns))."""
    return min(cap, 1.0 / math.sqrt(max(n_columns, 1)))


def classification_or_regression_head(n_classes: int | None, label_dimension: int | None, weight_column: Any,
                                      label_vocabulary: Any, loss_reduction: str) -> head_lib.Head:
    """The head a *Classifier (`n_classes`) or *Regressor (`label_dimension`) builds."""
    if n_classes is None:
        return RegressionHead(label_dimension, weight_column, loss_reduction)
    if n_classes == 2:
        return BinaryClassHead(weight_column, label_vocabulary=label_vocabulary, loss_reduction=loss_reduction)
    if isinstance(n_classes, int) and not isinstance(n_classes, bool) and n_classes < 2:
        raise ValueError(f"n_classes must be > 1, got {n_classes!r}.")
    return MultiClassHead(n_classes, weight_column, label_vocabulary, loss_reduction)


def column_count(columns: Any) -> int:
    """How many columns (a FeatureSpace: how many features) feed a linear model."""
    return len(columns.features) if isinstance(columns, keras.utils.FeatureSpace) else len(columns)


def optional_columns(columns: Any) -> Any:
    """A wide & deep part's columns: [] for None, a FeatureSpace as it is, else a list."""
    if columns is None:
        return []
    return columns if isinstance(columns, keras.utils.FeatureSpace) else list(columns)


def check_hidden_units(hidden_units: Any) -> list[int]:
    """Raises ValueError unless hidden_units is a non-empty list of positive integers."""
    units = list(hidden_units) if isinstance(hidden_units, (list, tuple)) else None
    if not units or any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in units):
        raise ValueError(f"hidden_units must be a non-empty list of positive integers, got {hidden_units!r}.")
    return units


def check_columns(columns: Any, what: str) -> Any:
    """The columns as a list, or a `keras.utils.FeatureSpace` as it is.

    Raises:
        ValueError: for no columns (tf.estimator's message).
    """
    if isinstance(columns, keras.utils.FeatureSpace):
        return columns
    columns = list(columns) if columns is not None and not isinstance(columns, str) else []
    if not columns:
        raise ValueError(f"{what} should not be empty: give a list of tf.feature_column columns.")
    return columns


def dnn_logits(features: Any, mode: str, feature_columns: list, hidden_units: list[int], units: int,
               activation_fn: Callable, dropout: float | None, batch_norm: bool) -> tuple[tf.Tensor, list]:
    """tf.estimator's DNN: feature columns, hidden layers (`dnn/hiddenlayer_<i>`, dropout and
    batch normalization only as training asks), then `dnn/logits`. Returns the logits and the
    network's trainable variables."""
    training = mode == ModeKeys.TRAIN
    with keras.name_scope("dnn"):
        layers = [DenseFeatures(feature_columns, name="input_from_feature_columns")]
        net = layers[0](features)
        for i, width in enumerate(hidden_units):
            layers.append(keras.layers.Dense(width, activation=activation_fn, name=f"hiddenlayer_{i}"))
            net = layers[-1](net)
            if dropout:
                net = keras.layers.Dropout(dropout, name=f"dropout_{i}")(net, training=training)
            if batch_norm:
                layers.append(keras.layers.BatchNormalization(momentum=0.999, name=f"batchnorm_{i}"))
                net = layers[-1](net, training=training)
        layers.append(keras.layers.Dense(units, name="logits"))
        return layers[-1](net), [v for layer in layers for v in layer.trainable_variables]


def linear_logits(features: Any, feature_columns: list, units: int, sparse_combiner: str) -> tuple[tf.Tensor, list]:
    """tf.estimator's linear model: one weight per numeric value or category, and a bias.
    Returns the logits and the model's trainable variables."""
    with keras.name_scope("linear"):
        if isinstance(feature_columns, keras.utils.FeatureSpace):  # Its one-hot/normalized output, weighted.
            dense = keras.layers.Dense(units, kernel_initializer="zeros", name="linear_model")
            return dense(DenseFeatures(feature_columns, name="feature_space")(features)), list(dense.trainable_variables)
        model = LinearModel(feature_columns, units=units, sparse_combiner=sparse_combiner, name="linear_model")
        return model(features), list(model.trainable_variables)


class _Bias(keras.layers.Layer):
    """The baseline's only weight: `[units]` logits, the same for every example."""

    def __init__(self, units: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape: Any = None) -> None:
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, batch_size: tf.Tensor) -> tf.Tensor:
        return tf.tile(self.bias[tf.newaxis, :], tf.stack([batch_size, 1]))


def bias_logits(features: Any, units: int) -> tf.Tensor:
    """The baseline's logits: a learned bias per output, for as many examples as the batch."""
    first = tf.nest.flatten(features)[0] if features is not None else None
    if first is None:
        raise ValueError("The baseline needs features to know the batch size; input_fn gave none.")
    rows = first.dense_shape[0] if isinstance(first, tf.SparseTensor) else tf.shape(first, out_type=tf.int64)[0]
    with keras.name_scope("baseline"):
        return _Bias(units, name="bias_layer")(tf.cast(rows, tf.int32))


def spec_for(head: head_lib.Head, features: Any, labels: Any, mode: str, logits: tf.Tensor,
             optimizers: Sequence[tuple[Callable[[], Any], list | None]]) -> Any:
    """The head's EstimatorSpec; in TRAIN one update per (optimizer factory, variables of its
    part; None: every trainable variable), each optimizer made for this call."""
    if mode != ModeKeys.TRAIN:
        return head.create_estimator_spec(features, mode, logits, labels)

    def train_op_fn(loss: tf.Tensor) -> Any:
        ops = [minimize_op(loss, make(), variables) for make, variables in optimizers]
        return ops[0] if len(ops) == 1 else tf.group(*ops)

    return head.create_estimator_spec(features, mode, logits, labels, train_op_fn=train_op_fn)
