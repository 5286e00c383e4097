"""`tf.compat.v1.layers` Dense, Dropout and Flatten, as classes and functions."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_estimator.layers_v1.base import Layer, tf1_function


def activation_fn(activation: Any):
    """None (linear), a callable, or a Keras activation's name ("relu")."""
    if activation is None or callable(activation):
        return activation
    return keras.activations.get(activation)


def zeros() -> Any:
    return tf.compat.v1.zeros_initializer()


def smart_cond(pred: Any, true_fn, false_fn):
    """`true_fn()` or `false_fn()` for a Python bool; a `tf.cond` for a boolean tensor."""
    if isinstance(pred, (bool, np.bool_)):
        return true_fn() if pred else false_fn()
    value = tf.get_static_value(pred)
    if value is not None:
        return true_fn() if bool(value) else false_fn()
    return tf.cond(tf.cast(pred, tf.bool), true_fn, false_fn)


def set_kernel_and_bias(layer: Layer, activation: Any, use_bias: bool, kernel_initializer: Any,
                        bias_initializer: Any, kernel_regularizer: Any, bias_regularizer: Any,
                        kernel_constraint: Any, bias_constraint: Any) -> None:
    """The kernel and bias settings Dense and the convolutions share (biases zero by default)."""
    layer.activation = activation_fn(activation)
    layer.use_bias = use_bias
    layer.kernel_initializer, layer.kernel_regularizer = kernel_initializer, kernel_regularizer
    layer.bias_initializer = bias_initializer if bias_initializer is not None else zeros()
    layer.bias_regularizer = bias_regularizer
    layer.kernel_constraint, layer.bias_constraint = kernel_constraint, bias_constraint
    layer.kernel = layer.bias = None


class Dense(Layer):
    """`outputs = activation(inputs @ kernel + bias)`; variables `<name>/kernel`, `<name>/bias`."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = None, bias_initializer: Any = None,
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = int(units)
        set_kernel_and_bias(self, activation, use_bias, kernel_initializer, bias_initializer,
                            kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint)

    def build(self, input_shape: tf.TensorShape) -> None:
        last = input_shape[-1] if input_shape.rank else None
        if last is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
        self.kernel = self.add_weight("kernel", [int(last), self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        inputs = tf.cast(inputs, self.kernel.dtype)
        rank = inputs.shape.rank
        if rank is not None and rank > 2:
            outputs = tf.tensordot(inputs, self.kernel, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape[:-1].concatenate([self.units]))
        else:
            outputs = tf.matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs


class Dropout(Layer):
    """Sets a fraction `rate` of the inputs to 0 (scaling the rest) when `training` is true."""

    def __init__(self, rate: float = 0.5, noise_shape: Any = None, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed

    def call(self, inputs: tf.Tensor, training: Any = False) -> tf.Tensor:
        if isinstance(self.rate, (int, float)) and self.rate == 0:
            return tf.identity(inputs)
        return smart_cond(
            training,
            lambda: tf.nn.dropout(inputs, rate=self.rate, noise_shape=self.noise_shape, seed=self.seed),
            lambda: tf.identity(inputs),
        )


class Flatten(Layer):
    """Reshapes `[batch, d1, d2, ...]` to `[batch, d1 * d2 * ...]` (channels last first)."""

    def __init__(self, data_format: str = "channels_last", **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        rank = inputs.shape.rank
        if self.data_format == "channels_first" and rank is not None and rank > 2:
            inputs = tf.transpose(inputs, [0, *range(2, rank), 1])
        dims = inputs.shape[1:]
        if dims.is_fully_defined():
            return tf.reshape(inputs, [-1, int(np.prod(dims.as_list(), dtype=np.int64))])
        return tf.reshape(inputs, tf.stack([tf.shape(inputs)[0], -1]))


@tf1_function
def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    """`tf.compat.v1.layers.dense`: a `Dense` layer applied to `inputs`."""
    layer = Dense(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                  bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                  bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                  trainable=trainable, name=name, reuse=reuse)
    return layer(inputs)


@tf1_function
def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """`tf.compat.v1.layers.dropout`: active only when `training` is true (default False)."""
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)(inputs, training=training)


@tf1_function
def flatten(inputs, name=None, data_format="channels_last"):
    """`tf.compat.v1.layers.flatten`: `[batch, ...]` to `[batch, n]`."""
    return Flatten(data_format=data_format, name=name)(inputs)
