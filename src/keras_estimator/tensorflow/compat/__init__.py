"""`tf.compat` with tf.estimator's names back in `v1` and `v2` (see keras_estimator.tensorflow)."""

from __future__ import annotations

from typing import Any

import tensorflow

from keras_estimator.tensorflow.compat import v1, v2
from keras_estimator.tensorflow.overrides import names, resolve

__all__ = ["v1", "v2"]


def __getattr__(name: str) -> Any:
    return resolve(tensorflow.compat, "tensorflow.compat", name)


def __dir__() -> list[str]:
    return sorted(set(names(tensorflow.compat, "tensorflow.compat")) | set(__all__))
