"""`tf.compat.v1.layers` max and average pooling in 1, 2 and 3 dimensions, classes and functions."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from keras_estimator.layers_v1.base import Layer, layer_kwargs, nn_data_format, nn_padding, tf1_function, tuple_of


class Pooling(Layer):
    """Max or average (`pooling_type` "MAX" / "AVG") over windows of `pool_size`; no variables."""

    rank = 2
    pooling_type = "MAX"

    def __init__(self, pool_size: Any, strides: Any, padding: str = "valid",
                 data_format: str = "channels_last", **kwargs: Any):
        super().__init__(**kwargs)
        self.pool_size = tuple_of(pool_size, self.rank, "pool_size")
        self.strides = tuple_of(strides, self.rank, "strides")
        self.padding = nn_padding(padding)
        self.data_format = data_format
        self.nn_format = nn_data_format(data_format, self.rank)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.nn.pool(inputs, window_shape=self.pool_size, pooling_type=self.pooling_type,
                          strides=self.strides, padding=self.padding, data_format=self.nn_format)


class MaxPooling1D(Pooling):
    rank, pooling_type = 1, "MAX"


class MaxPooling2D(Pooling):
    rank, pooling_type = 2, "MAX"


class MaxPooling3D(Pooling):
    rank, pooling_type = 3, "MAX"


class AveragePooling1D(Pooling):
    rank, pooling_type = 1, "AVG"


class AveragePooling2D(Pooling):
    rank, pooling_type = 2, "AVG"


class AveragePooling3D(Pooling):
    rank, pooling_type = 3, "AVG"


@tf1_function
def max_pooling1d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    """`tf.compat.v1.layers.max_pooling1d`."""
    return MaxPooling1D(**layer_kwargs(locals()))(inputs)


@tf1_function
def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    """`tf.compat.v1.layers.max_pooling2d`."""
    return MaxPooling2D(**layer_kwargs(locals()))(inputs)


@tf1_function
def max_pooling3d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    """`tf.compat.v1.layers.max_pooling3d`."""
    return MaxPooling3D(**layer_kwargs(locals()))(inputs)


@tf1_function
def average_pooling1d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    """`tf.compat.v1.layers.average_pooling1d`."""
    return AveragePooling1D(**layer_kwargs(locals()))(inputs)


@tf1_function
def average_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    """`tf.compat.v1.layers.average_pooling2d`."""
    return AveragePooling2D(**layer_kwargs(locals()))(inputs)


@tf1_function
def average_pooling3d(inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None):
    """`tf.compat.v1.layers.average_pooling3d`."""
    return AveragePooling3D(**layer_kwargs(locals()))(inputs)
