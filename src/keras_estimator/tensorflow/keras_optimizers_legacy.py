"""`tf.keras.optimizers.legacy` for Estimator programs: TensorFlow 2.11-2.15's premade
estimators required these Keras 2 optimizers, which Keras 3 removed. Each is the
`tf.compat.v1.train` optimizer with the same update rule, taking the Keras 2 arguments
(so a TF1 decayed learning-rate tensor works, as it did), for a premade estimator's
`optimizer` or a model_fn's `minimize`. Keras-only arguments (clipnorm, clipvalue,
global_clipnorm, amsgrad) are refused with a ValueError naming them.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

_V1 = tf.compat.v1.train
__all__ = ["Adadelta", "Adagrad", "Adam", "Ftrl", "Optimizer", "RMSprop", "SGD"]
Optimizer = _V1.Optimizer


def _refuse(cls: str, **options: Any) -> None:
    given = sorted(k for k, v in options.items() if v)
    if given:
        raise ValueError(f"tf.keras.optimizers.legacy.{cls}: {given} are not supported by keras_estimator's "
                         "legacy optimizers (tf.compat.v1.train rules); use a Keras 3 optimizer for them.")


class _KerasArguments:
    """Keras 2's `minimize(loss, var_list, grad_loss=None, name=None, tape=None)`: the loss may
    be a callable; var_list is the second argument (compat.v1's is global_step)."""

    def minimize(self, loss, var_list=None, grad_loss=None, name=None, tape=None, global_step=None):
        del tape  # The Estimator records the step; compat.v1's gradients need no tape.
        loss = loss() if callable(loss) else loss
        return super().minimize(loss, global_step=global_step, var_list=var_list, name=name, grad_loss=grad_loss)


class SGD(_KerasArguments, _V1.MomentumOptimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        _refuse("SGD", **kwargs)
        super().__init__(learning_rate, momentum, name=name, use_nesterov=nesterov)


class Adagrad(_KerasArguments, _V1.AdagradOptimizer):
    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="Adagrad", **kwargs):
        del epsilon  # compat.v1's Adagrad adds none.
        _refuse("Adagrad", **kwargs)
        super().__init__(learning_rate, initial_accumulator_value, name=name)


class Adam(_KerasArguments, _V1.AdamOptimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, name="Adam",
                 **kwargs):
        _refuse("Adam", amsgrad=amsgrad, **kwargs)
        super().__init__(learning_rate, beta_1, beta_2, epsilon, name=name)


class Ftrl(_KerasArguments, _V1.FtrlOptimizer):
    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0, name="Ftrl",
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, **kwargs):
        _refuse("Ftrl", **kwargs)
        super().__init__(learning_rate, learning_rate_power, initial_accumulator_value, l1_regularization_strength,
                         l2_regularization_strength, name=name,
                         l2_shrinkage_regularization_strength=l2_shrinkage_regularization_strength, beta=beta)


class RMSprop(_KerasArguments, _V1.RMSPropOptimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, name="RMSprop",
                 **kwargs):
        _refuse("RMSprop", **kwargs)
        super().__init__(learning_rate, rho, momentum, epsilon, centered=centered, name=name)


class Adadelta(_KerasArguments, _V1.AdadeltaOptimizer):
    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="Adadelta", **kwargs):
        _refuse("Adadelta", **kwargs)
        super().__init__(learning_rate, rho, epsilon, name=name)
