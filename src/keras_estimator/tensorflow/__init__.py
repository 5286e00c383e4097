"""TensorFlow with tf.estimator's names back: the one-import migration path.

A tf.estimator program changes `import tensorflow as tf` into
`import keras_estimator.tensorflow as tf` (or `import tensorflow.compat.v1 as tf` into
`import keras_estimator.tensorflow.compat.v1 as tf`) and nothing else: every attribute is
TensorFlow's own, except the names TensorFlow 2.16 removed, which are keras_estimator's
(`tf.estimator`, `tf.compat.v1.estimator`, and the TF1 names listed in `compat.v1`). Nothing in
TensorFlow itself is changed: code that imports tensorflow directly sees TensorFlow as it is.
"""

from __future__ import annotations

from typing import Any

import tensorflow

from keras_estimator.tensorflow import compat
from keras_estimator.tensorflow.overrides import public_api, resolve

__all__ = ["compat", "estimator"]


def __getattr__(name: str) -> Any:
    if name == "estimator":
        return public_api()
    return resolve(tensorflow, "tensorflow", name)


def __dir__() -> list[str]:
    return sorted(set(dir(tensorflow)) | set(__all__))
