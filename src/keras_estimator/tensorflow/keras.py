"""`tf.keras` (Keras 3) with `tf.keras.estimator.model_to_estimator` back (see keras_estimator.tensorflow)."""

from __future__ import annotations

from typing import Any

import tensorflow

from keras_estimator.tensorflow.overrides import names, resolve

_PATH = "tensorflow.keras"


def __getattr__(name: str) -> Any:
    return resolve(tensorflow.keras, _PATH, name)


def __dir__() -> list[str]:
    return names(tensorflow.keras, _PATH)
