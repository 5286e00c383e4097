"""`tf.compat.v1.train` with the Estimator's hooks and timers (see keras_estimator.tensorflow)."""

from __future__ import annotations

from typing import Any

import tensorflow

from keras_estimator.tensorflow.overrides import names, resolve

_PATH = "tensorflow.compat.v1.train"


def __getattr__(name: str) -> Any:
    return resolve(tensorflow.compat.v1.train, _PATH, name)


def __dir__() -> list[str]:
    return names(tensorflow.compat.v1.train, _PATH)
