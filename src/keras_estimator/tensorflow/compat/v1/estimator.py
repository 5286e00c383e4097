"""`tf.compat.v1.estimator`: keras_estimator's names, with the premade estimators' TF1
defaults (`keras_estimator.canned.v1`: losses summed over the batch, as tf.estimator 1)."""

from __future__ import annotations

from typing import Any

import keras_estimator
from keras_estimator.canned import v1

_V1 = ("DNNClassifier", "DNNRegressor", "LinearClassifier", "LinearRegressor", "DNNLinearCombinedClassifier",
       "DNNLinearCombinedRegressor", "BaselineClassifier", "BaselineRegressor")


def __getattr__(name: str) -> Any:
    if name in _V1:
        return getattr(v1, name)
    return getattr(keras_estimator, name)


def __dir__() -> list[str]:
    return dir(keras_estimator)
