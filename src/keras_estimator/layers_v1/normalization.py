"""`tf.compat.v1.layers` BatchNormalization, as a class and a function.

In training (`training=True`) it normalizes with the batch's moments and updates its moving
averages in the same step; otherwise it normalizes with the moving averages and updates
nothing. model_fn runs in a tf.function, which runs every update whatever the program does with
`tf.compat.v1.GraphKeys.UPDATE_OPS`: the collection gets one no-op per update, so the TF1 idiom
`with tf.control_dependencies(update_ops): train_op = ...` works (and changes nothing).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from keras_estimator.layers_v1.base import Layer, building, in_graph, layer_kwargs, tf1_function
from keras_estimator.layers_v1.core import smart_cond, zeros

_UNSUPPORTED = ("renorm", "virtual_batch_size", "adjustment")


class BatchNormalization(Layer):
    """Variables `<name>/gamma`, `<name>/beta` (trained), `<name>/moving_mean` and
    `<name>/moving_variance` (not trained, checkpointed). `fused` is accepted and ignored (the
    results are those of the fused kernel up to rounding)."""

    def __init__(self, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = None,
                 gamma_initializer: Any = None, moving_mean_initializer: Any = None,
                 moving_variance_initializer: Any = None, beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, renorm: bool = False, renorm_clipping: Any = None,
                 renorm_momentum: float = 0.99, fused: Any = None, virtual_batch_size: Any = None,
                 adjustment: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        given = {"renorm": renorm, "virtual_batch_size": virtual_batch_size, "adjustment": adjustment}
        for name in _UNSUPPORTED:
            if given[name]:
                raise NotImplementedError(f"batch_normalization({name}=...) is not supported by keras_estimator.")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        self.momentum, self.epsilon, self.center, self.scale = momentum, epsilon, center, scale
        self.initializers = {
            "beta": beta_initializer or zeros(), "gamma": gamma_initializer or tf.compat.v1.ones_initializer(),
            "moving_mean": moving_mean_initializer or zeros(),
            "moving_variance": moving_variance_initializer or tf.compat.v1.ones_initializer(),
        }
        self.regularizers = {"beta": beta_regularizer, "gamma": gamma_regularizer}
        self.constraints = {"beta": beta_constraint, "gamma": gamma_constraint}
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape: tf.TensorShape) -> None:
        rank = input_shape.rank
        if rank is None:
            raise ValueError("Inputs to `BatchNormalization` should have a known rank.")
        self.axis = sorted(a % rank for a in self.axis)
        if any(input_shape[a] is None for a in self.axis):
            raise ValueError(f"The normalized axes {self.axis} of the inputs should be defined, got {input_shape}.")
        self.param_shape = [int(input_shape[a]) for a in self.axis]
        self.broadcast_shape = [int(input_shape[a]) if a in self.axis else 1 for a in range(rank)]
        if self._dtype in (tf.float16, tf.bfloat16):
            self._dtype = tf.float32  # As TF1: the parameters of half-precision inputs are float32.
        if self.scale:
            self.gamma = self._param("gamma")
        if self.center:
            self.beta = self._param("beta")
        self.moving_mean = self._moving("moving_mean")
        self.moving_variance = self._moving("moving_variance")

    def call(self, inputs: tf.Tensor, training: Any = False) -> tf.Tensor:
        x = tf.cast(inputs, self._dtype)
        reduction = [a for a in range(x.shape.rank) if a not in self.axis]

        def batch_moments():
            return tf.nn.moments(x, reduction, keepdims=True)

        def moving_moments():
            return (tf.reshape(self.moving_mean, self.broadcast_shape),
                    tf.reshape(self.moving_variance, self.broadcast_shape))

        mean, variance = smart_cond(training, batch_moments, moving_moments)
        outputs = tf.nn.batch_normalization(
            x, mean, variance, self._broadcast(self.beta), self._broadcast(self.gamma), self.epsilon)
        if training is not False and not building():
            rate = smart_cond(training, lambda: tf.constant(1.0 - self.momentum, self._dtype),
                              lambda: tf.constant(0.0, self._dtype))
            self._update(self.moving_mean, mean, rate)
            self._update(self.moving_variance, variance, rate)
        return tf.cast(outputs, inputs.dtype)

    def _param(self, name: str) -> tf.Variable:
        return self.add_weight(name, self.param_shape, initializer=self.initializers[name],
                               regularizer=self.regularizers[name], constraint=self.constraints[name])

    def _moving(self, name: str) -> tf.Variable:
        return self.add_weight(
            name, self.param_shape, initializer=self.initializers[name], trainable=False,
            synchronization=tf.VariableSynchronization.ON_READ, aggregation=tf.VariableAggregation.MEAN)

    def _broadcast(self, variable: tf.Variable | None) -> tf.Tensor | None:
        return None if variable is None else tf.reshape(variable, self.broadcast_shape)

    def _update(self, variable: tf.Variable, value: tf.Tensor, rate: tf.Tensor) -> None:
        """variable -= (variable - value) * rate: the moving average, with TF1's momentum."""
        delta = (variable - tf.reshape(value, self.param_shape)) * rate
        tf.compat.v1.assign_sub(variable, delta)
        if in_graph():
            # What the program's `tf.control_dependencies(update_ops)` gets: a no-op. The update
            # itself runs in every step anyway (a tf.function runs all its stateful ops), and a
            # dependency on it would keep the initial values of variables created under that
            # block (the optimizer's, on the first trace) from being lifted out of the graph.
            with tf.control_dependencies(None):
                marker = tf.no_op(name=f"update_{variable.name.split(':')[0].rpartition('/')[2]}")
            tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.UPDATE_OPS, marker)


@tf1_function
def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=None, gamma_initializer=None, moving_mean_initializer=None,
                        moving_variance_initializer=None, beta_regularizer=None,
                        gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                        training=False, trainable=True, name=None, reuse=None, renorm=False,
                        renorm_clipping=None, renorm_momentum=0.99, fused=None,
                        virtual_batch_size=None, adjustment=None):
    """`tf.compat.v1.layers.batch_normalization`: moving averages updated when `training`."""
    arguments = layer_kwargs(locals())
    del arguments["training"]
    return BatchNormalization(**arguments)(inputs, training=training)
