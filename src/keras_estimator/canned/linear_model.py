"""`LinearModel` on Keras 3: the linear part of tf.estimator's canned linear estimators.

tf.estimator's `LinearClassifier`, `LinearRegressor` and the linear half of
`DNNLinearCombined*` computed their logits with `LinearModel`: one weight matrix per feature
column, summed with a bias. It left with tf.estimator and tf.keras 2; this layer plays its
role inside model_fn and inside a Keras functional model. A categorical column (vocabulary,
identity, hash bucket, crossed, weighted, bucketized) contributes one weight row per bucket,
its ids combined by `sparse_combiner`, without an indicator or embedding column around it; a
dense column (numeric, indicator, embedding) contributes its dense tensor times a weight
matrix. Everything starts at zero, as in tf.estimator.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import keras
import tensorflow as tf

from keras_estimator import _compat
from keras_estimator.errors import MissingFeatureError
from keras_estimator.feature_columns import column_keys, layer_state_manager

SPARSE_COMBINERS = ("sum", "mean", "sqrtn")
BIAS_NAME = "bias_weights"


class LinearModel(keras.layers.Layer):
    """Logits `[batch, units]` from a dict of features: each column's weighted sum plus a bias.

    Weights are the layer's Keras weights, all zeros at first (tf.estimator's initialization):
    `<column name>_weights` of shape `[num_buckets, units]` for a categorical column or
    `[width, units]` for a dense one, and `bias_weights` of shape `[units]`. Inside model_fn
    the Estimator checkpoints them as `<layer name>/<weight name>`, e.g. `linear_model/age_weights`.

    Args:
        feature_columns: `tf.feature_column` columns: categorical ones (`categorical_column_with_*`,
            `bucketized_column`, `crossed_column`, `weighted_categorical_column`) and dense ones
            (`numeric_column`, `indicator_column`, `embedding_column`). A bucketized column
            counts as categorical: one weight per bucket.
        units: The number of logits per example (1 for regression and binary classification,
            the number of classes otherwise).
        sparse_combiner: How the weights of a categorical column's several ids in one example
            combine: "sum" (tf.estimator's default), "mean" or "sqrtn" (sum over the square root
            of the sum of squared id weights).
        trainable: Whether the weights are trained.
        name: The layer's name (default "linear_model"), the first part of its weights' paths.

    Raises:
        ValueError: if feature_columns is empty, holds a column that is neither categorical nor
            dense, two columns of one name, or a column named "bias" (its weights would be
            named `bias_weights` too); if units < 1 or sparse_combiner is not one of
            "sum", "mean", "sqrtn"; when called, if the features are not a dict.
        MissingFeatureError: when called on features without a key a column reads.
    """

    def __init__(self, feature_columns: Iterable[Any], units: int = 1, sparse_combiner: str = "sum",
                 trainable: bool = True, name: str | None = None, **kwargs: Any):
        super().__init__(trainable=trainable, name=name or "linear_model", **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"LinearModel's units must be an integer >= 1, got {units!r}.")
        if sparse_combiner not in SPARSE_COMBINERS:
            raise ValueError(f"LinearModel's sparse_combiner must be one of {list(SPARSE_COMBINERS)}, "
                             f"got {sparse_combiner!r}.")
        self._columns = _checked_columns(feature_columns)
        self._units = units
        self._sparse_combiner = sparse_combiner
        self._state = layer_state_manager(self)
        self._column_weights: dict[str, Any] = {}
        self._bias = None

    @property
    def feature_columns(self) -> list[Any]:
        """The columns, in the order they are applied (by name)."""
        return list(self._columns)

    @property
    def units(self) -> int:
        """The number of logits per example."""
        return self._units

    @property
    def sparse_combiner(self) -> str:
        """How a categorical column's ids in one example combine: "sum", "mean" or "sqrtn"."""
        return self._sparse_combiner

    @property
    def bias(self) -> keras.Variable | None:
        """The bias, `[units]` (None until the layer is built)."""
        return self._bias

    def column_weights(self, column_name: str) -> keras.Variable:
        """The weight matrix of one column (`[num_buckets or width, units]`).

        Args:
            column_name: The column's `name` (e.g. "age", "age_bucketized", "a_X_b").

        Returns:
            The column's Keras variable; `assign` sets it.

        Raises:
            ValueError: if the layer is not built yet or has no column of that name.
        """
        if not self.built:
            raise ValueError(f"LinearModel {self.name!r} has no weights before it is built "
                             "(called on features, or build()).")
        if column_name not in self._column_weights:
            raise ValueError(f"LinearModel {self.name!r} has no column {column_name!r}; its columns are "
                             f"{[c.name for c in self._columns]}.")
        return self._column_weights[column_name]

    def build(self, input_shape: Any = None) -> None:
        for column in self._columns:
            column.create_state(self._state)  # Embedding columns' tables, before the linear weights.
            rows = column.num_buckets if _is_categorical(column) else column.variable_shape.num_elements()
            self._column_weights[column.name] = self.add_weight(
                name=f"{column.name}_weights", shape=(rows, self._units), dtype="float32",
                initializer="zeros", trainable=self.trainable)
        self._bias = self.add_weight(name=BIAS_NAME, shape=(self._units,), dtype="float32",
                                     initializer="zeros", trainable=self.trainable)
        super().build(input_shape)

    def __call__(self, features: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(features, Mapping) and type(features) is not dict:  # Keras takes plain dicts.
            features = dict(features)
        return super().__call__(features, *args, **kwargs)

    def call(self, features: Mapping[str, Any]) -> tf.Tensor:
        """The logits.

        Args:
            features: Feature key -> `Tensor` or `SparseTensor`, batch first, holding every key
                the columns read (more keys are ignored).

        Returns:
            A float32 `[batch, units]` tensor.

        Raises:
            ValueError: if features is not a dict.
            MissingFeatureError: if a key a column reads is missing, naming it.
        """
        if not isinstance(features, Mapping):
            raise ValueError(f"LinearModel takes a dict of features, got {type(features).__name__}.")
        missing = sorted({key for c in self._columns for key in column_keys(c)} - set(features))
        if missing:
            raise MissingFeatureError(
                f"LinearModel's columns read feature(s) {missing}, not among {sorted(features)}.")
        cache = _compat.feature_column_types().FeatureTransformationCache(dict(features))
        sums = [self._weighted_sum(column, cache) for column in self._columns]
        return tf.nn.bias_add(tf.add_n(sums), _compat.backing_variable(self._bias))

    def _weighted_sum(self, column: Any, cache: Any) -> tf.Tensor:
        """One column's `[batch, units]` contribution."""
        weights = _compat.backing_variable(self._column_weights[column.name])
        if _is_categorical(column):
            pair = column.get_sparse_tensors(cache, self._state)
            id_weights = None if pair.weight_tensor is None else _ids_per_example(pair.weight_tensor)
            return tf.nn.safe_embedding_lookup_sparse(
                weights, _ids_per_example(pair.id_tensor), id_weights, combiner=self._sparse_combiner)
        tensor = column.get_dense_tensor(cache, self._state)
        width = column.variable_shape.num_elements()
        return tf.matmul(tf.reshape(tf.cast(tensor, tf.float32), [-1, width]), weights)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        batch = next(iter(input_shape.values()))[0] if isinstance(input_shape, Mapping) else None
        return (batch, self._units)

    def compute_output_spec(self, features: Any, *args: Any, **kwargs: Any) -> keras.KerasTensor:
        shape = self.compute_output_shape(tf.nest.map_structure(lambda x: x.shape, features))
        return keras.KerasTensor(shape, dtype="float32")  # Float32 logits, as tf.estimator's.

    def get_config(self) -> dict:
        serialize = _compat.feature_column_types().serialize_feature_column
        return {**super().get_config(), "feature_columns": [serialize(c) for c in self._columns],
                "units": self._units, "sparse_combiner": self._sparse_combiner}

    @classmethod
    def from_config(cls, config: dict) -> "LinearModel":
        deserialize = _compat.feature_column_types().deserialize_feature_column
        config = dict(config)
        config["feature_columns"] = [deserialize(c) for c in config["feature_columns"]]
        return cls(**config)


def _checked_columns(feature_columns: Iterable[Any]) -> list[Any]:
    """The columns sorted by name (tf.estimator's order), after checking them."""
    columns = list(feature_columns) if isinstance(feature_columns, Iterable) else [feature_columns]
    if not columns:
        raise ValueError("LinearModel needs at least one feature column.")
    dense = _compat.feature_column_types().DenseColumn
    names: set[str] = set()
    for column in columns:
        name = getattr(column, "name", column)
        if not (_is_categorical(column) or isinstance(column, dense)):
            raise ValueError(f"LinearModel takes categorical or dense feature columns; {name!r} is a "
                             f"{type(column).__name__}.")
        if name in names:
            raise ValueError(f"LinearModel's feature columns hold two columns named {name!r}.")
        if f"{name}_weights" == BIAS_NAME:
            raise ValueError(f"LinearModel cannot take a column named {name!r}: its weights would be "
                             f"named {BIAS_NAME!r}, the bias's name. Rename its feature key.")
        names.add(name)
    return sorted(columns, key=lambda c: c.name)


def _is_categorical(column: Any) -> bool:
    """Categorical columns give ids (checked first: a bucketized column is dense too)."""
    return hasattr(column, "num_buckets") and hasattr(column, "get_sparse_tensors")


def _ids_per_example(sparse: tf.SparseTensor) -> tf.SparseTensor:
    """`[batch, ...]` ids (or id weights) as `[batch, n]`: one bag of ids per example."""
    return tf.sparse.reshape(sparse, tf.stack([sparse.dense_shape[0], tf.constant(-1, tf.int64)]))
