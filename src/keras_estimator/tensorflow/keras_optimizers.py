"""`tf.keras.optimizers` (Keras 3's) with `tf.keras.optimizers.legacy` back for Estimator code."""

from __future__ import annotations

from typing import Any

import tensorflow

from keras_estimator.tensorflow.overrides import names, resolve

_PATH = "tensorflow.keras.optimizers"


def __getattr__(name: str) -> Any:
    return resolve(tensorflow.keras.optimizers, _PATH, name)


def __dir__() -> list[str]:
    return names(tensorflow.keras.optimizers, _PATH)
