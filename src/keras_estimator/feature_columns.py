"""`DenseFeatures` on Keras 3: `tf.feature_column` columns turned into one dense tensor.

TensorFlow 2.21 still has `tf.feature_column` (numeric, bucketized, categorical, indicator,
embedding, crossed, weighted, shared embeddings), but the layer that applied them,
`tf.keras.layers.DenseFeatures`, left with Keras 2. This one plays its role inside model_fn
and inside a Keras functional model: a dict of feature tensors in, `[batch, n]` out, the
columns in name order, each column's weights (embeddings) made once by the layer, so the
Estimator checkpoints them under `<layer>/<column>_<weight>`. It also takes an adapted
`keras.utils.FeatureSpace` (output_mode "concat") in place of the columns, where users moved.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import keras
import tensorflow as tf

from keras_estimator import _compat
from keras_estimator import context as context_lib
from keras_estimator.errors import MissingFeatureError


class DenseFeatures(keras.layers.Layer):
    """A dense `[batch, n]` tensor from a dict of features, through feature columns.

    Args:
        feature_columns: `tf.feature_column` dense columns (numeric, bucketized, indicator,
            embedding, shared embedding); wrap a categorical column in `indicator_column` or
            `embedding_column`. Or an adapted `keras.utils.FeatureSpace` with output_mode
            "concat": its state (vocabularies, normalization statistics) is what `adapt` gave,
            saved with exports, not in checkpoints (adapt it the same way in every program).
        trainable: Whether the columns' weights (embeddings) are trained.
        name: The layer's name (default "dense_features"), the first part of its weights' names.

    Raises:
        ValueError: if feature_columns is empty or holds a column that is not dense (naming
            it), and, when called, if the features are not a dict.
        MissingFeatureError: when called on features without a key a column reads.
    """

    def __init__(self, feature_columns: Iterable[Any], trainable: bool = True, name: str | None = None,
                 **kwargs: Any):
        super().__init__(trainable=trainable, name=name or "dense_features", **kwargs)
        self._feature_space = _checked_feature_space(feature_columns)
        if self._feature_space is not None:
            self._columns, self._state = [], None
            return
        columns = list(feature_columns) if isinstance(feature_columns, Iterable) else [feature_columns]
        if not columns:
            raise ValueError("DenseFeatures needs at least one feature column.")
        dense = _compat.feature_column_types().DenseColumn
        for column in columns:
            if not isinstance(column, dense):
                raise ValueError(
                    f"DenseFeatures takes dense feature columns; {getattr(column, 'name', column)!r} is a "
                    f"{type(column).__name__}. Wrap a categorical column in "
                    "tf.feature_column.indicator_column(...) or embedding_column(...)."
                )
        self._columns = sorted(columns, key=lambda c: c.name)  # tf.keras's order: by name.
        self._state = layer_state_manager(self)

    @property
    def feature_columns(self) -> Any:
        """The columns in name order, or the FeatureSpace given."""
        return self._feature_space if self._feature_space is not None else list(self._columns)

    def build(self, input_shape: Any = None) -> None:
        for column in self._columns:
            column.create_state(self._state)
        super().build(input_shape)

    def __call__(self, features: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(features, Mapping) and type(features) is not dict:  # Keras takes plain dicts.
            features = dict(features)
        return super().__call__(features, *args, **kwargs)

    def call(self, features: Mapping[str, Any]) -> tf.Tensor:
        if not isinstance(features, Mapping):
            raise ValueError(f"DenseFeatures takes a dict of features, got {type(features).__name__}.")
        if self._feature_space is not None:
            return self._call_feature_space(features)
        missing = sorted({key for c in self._columns for key in column_keys(c)} - set(features))
        if missing:
            raise MissingFeatureError(
                f"DenseFeatures' columns read feature(s) {missing}, not among {sorted(features)}.")
        cache = _compat.feature_column_types().FeatureTransformationCache(dict(features))
        outputs = []
        for column in self._columns:
            with tf.name_scope(column.name):
                tensor = column.get_dense_tensor(cache, self._state)
                width = column.variable_shape.num_elements()
                outputs.append(tf.reshape(tf.cast(tensor, self.compute_dtype), [-1, width]))
        return tf.concat(outputs, axis=1)

    def _call_feature_space(self, features: Mapping[str, Any]) -> tf.Tensor:
        space = self._feature_space
        missing = sorted(set(space.features) - set(features))
        if missing:
            raise MissingFeatureError(f"The FeatureSpace reads feature(s) {missing}, not among {sorted(features)}.")
        ctx = context_lib.current()
        if ctx is not None:  # Its tables and statistics were made by adapt(), outside model_fn.
            ctx.store.keep_for_export(space)
        return tf.cast(space({k: features[k] for k in space.features}), self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        batch = next(iter(input_shape.values()))[0] if isinstance(input_shape, Mapping) else None
        if self._feature_space is not None:
            return (batch, None)
        return (batch, sum(c.variable_shape.num_elements() for c in self._columns))

    def get_config(self) -> dict:
        if self._feature_space is not None:
            raise ValueError("DenseFeatures over a FeatureSpace has no config: its state comes from adapt(). "
                             "Build the model with the adapted FeatureSpace in the same program.")
        serialize = _compat.feature_column_types().serialize_feature_column
        return {**super().get_config(), "feature_columns": [serialize(c) for c in self._columns]}

    @classmethod
    def from_config(cls, config: dict) -> "DenseFeatures":
        deserialize = _compat.feature_column_types().deserialize_feature_column
        config = dict(config)
        config["feature_columns"] = [deserialize(c) for c in config["feature_columns"]]
        return cls(**config)


def _checked_feature_space(value: Any) -> Any:
    """The FeatureSpace given, or None for feature columns.

    Raises:
        ValueError: for a FeatureSpace whose output_mode is not "concat".
    """
    if not isinstance(value, keras.utils.FeatureSpace):
        return None
    if value.output_mode != "concat":
        raise ValueError(f"DenseFeatures needs a FeatureSpace with output_mode='concat', got {value.output_mode!r}.")
    return value


def column_keys(column: Any) -> list[str]:
    """The feature keys a column reads (its parse spec's keys)."""
    return list(tf.feature_column.make_parse_example_spec([column]))


def layer_state_manager(layer: keras.layers.Layer) -> Any:
    """A feature-column `StateManager` whose variables are `layer`'s Keras weights (created with
    `add_weight` where the column asks for them, named by the column's name scope) and whose
    resources (lookup tables) and shared variables it keeps by column.

    Columns call `create_variable`, `get_variable`, `add_variable`, `add_resource`,
    `has_resource`, `get_resource` on the state manager they are given.
    """
    base = _compat.feature_column_types().StateManager

    class _LayerStateManager(base):
        def __init__(self) -> None:
            self._variables: dict = {}
            self._resources: dict = {}

        def create_variable(self, feature_column, name, shape, dtype=None, trainable=True,
                            use_resource=True, initializer=None):
            del use_resource  # Keras weights are resource variables.
            variable = layer.add_weight(  # Keras names weights by layer only: the column's name first.
                name=f"{feature_column.name}_{name}", shape=tuple(shape), dtype=dtype or "float32",
                initializer=initializer or "zeros", trainable=layer.trainable and trainable)
            variable = _compat.backing_variable(variable)  # Columns use tf.Variable attributes (device).
            self._variables[(feature_column.name, name)] = variable
            return variable

        def add_variable(self, feature_column, var):
            self._variables[(feature_column.name, var.name)] = var

        def get_variable(self, feature_column, name):
            return self._variables[(feature_column.name, name)]

        def add_resource(self, feature_column, resource_name, resource):
            self._resources[(feature_column.name, resource_name)] = resource
            return resource

        def has_resource(self, feature_column, resource_name):
            return (feature_column.name, resource_name) in self._resources

        def get_resource(self, feature_column, resource_name):
            return self._resources[(feature_column.name, resource_name)]

    return _LayerStateManager()
