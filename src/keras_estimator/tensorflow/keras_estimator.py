"""What `tf.keras.estimator` held: `model_to_estimator`, keras_estimator's."""

from __future__ import annotations

from keras_estimator.keras_bridge import model_to_estimator

__all__ = ["model_to_estimator"]
