"""`tf.keras.layers` (Keras 3's) with `tf.keras.layers.DenseFeatures` back: keras_estimator's."""

from __future__ import annotations

from typing import Any

import tensorflow

from keras_estimator.tensorflow.overrides import names, resolve

_PATH = "tensorflow.keras.layers"


def __getattr__(name: str) -> Any:
    return resolve(tensorflow.keras.layers, _PATH, name)


def __dir__() -> list[str]:
    return names(tensorflow.keras.layers, _PATH)
