"""`tf.compat.v1.layers` Conv1D, Conv2D and Conv3D, as classes and functions."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from keras_estimator.layers_v1.base import Layer, layer_kwargs, nn_data_format, nn_padding, tf1_function, tuple_of
from keras_estimator.layers_v1.core import set_kernel_and_bias


class Conv(Layer):
    """An N-D convolution (N = `rank`); variables `<name>/kernel` (spatial dims, in, out) and
    `<name>/bias`."""

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = None, bias_initializer: Any = None,
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = tuple_of(kernel_size, self.rank, "kernel_size")
        self.strides = tuple_of(strides, self.rank, "strides")
        self.padding = nn_padding(padding)
        self.data_format = data_format
        self.nn_format = nn_data_format(data_format, self.rank)
        self.dilation_rate = tuple_of(dilation_rate, self.rank, "dilation_rate")
        set_kernel_and_bias(self, activation, use_bias, kernel_initializer, bias_initializer,
                            kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint)

    def build(self, input_shape: tf.TensorShape) -> None:
        if input_shape.rank is not None and input_shape.rank != self.rank + 2:
            raise ValueError(f"Inputs to `{type(self).__name__}` should have rank {self.rank + 2}, "
                             f"received input shape: {input_shape}.")
        channels = input_shape[1] if self.data_format == "channels_first" else input_shape[-1]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        self.kernel = self.add_weight(
            "kernel", [*self.kernel_size, int(channels), self.filters], initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        outputs = tf.nn.convolution(
            tf.cast(inputs, self.kernel.dtype), self.kernel, strides=self.strides, padding=self.padding,
            data_format=self.nn_format, dilations=self.dilation_rate)
        if self.use_bias:
            fmt = "NC..." if self.data_format == "channels_first" else "N...C"
            outputs = tf.nn.bias_add(outputs, self.bias, data_format=fmt)
        return self.activation(outputs) if self.activation is not None else outputs


class Conv1D(Conv):
    rank = 1


class Conv2D(Conv):
    rank = 2


class Conv3D(Conv):
    rank = 3


@tf1_function
def conv1d(inputs, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
           dilation_rate=1, activation=None, use_bias=True, kernel_initializer=None,
           bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
           activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
           trainable=True, name=None, reuse=None):
    """`tf.compat.v1.layers.conv1d`: a `Conv1D` layer applied to `inputs`."""
    return Conv1D(**layer_kwargs(locals()))(inputs)


@tf1_function
def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid", data_format="channels_last",
           dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer=None,
           bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
           activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
           trainable=True, name=None, reuse=None):
    """`tf.compat.v1.layers.conv2d`: a `Conv2D` layer applied to `inputs`."""
    return Conv2D(**layer_kwargs(locals()))(inputs)


@tf1_function
def conv3d(inputs, filters, kernel_size, strides=(1, 1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=None, kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    """`tf.compat.v1.layers.conv3d`: a `Conv3D` layer applied to `inputs`."""
    return Conv3D(**layer_kwargs(locals()))(inputs)
