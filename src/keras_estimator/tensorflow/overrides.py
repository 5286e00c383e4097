"""Which TF1-era names the `keras_estimator.tensorflow` modules answer themselves.

Each proxy module asks `override(module_path, name)` first and falls back to TensorFlow's own
attribute. Names are resolved lazily, so importing the proxy costs no more than TensorFlow.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

_MISSING = object()

# TensorFlow module path -> {attribute: "keras_estimator module[:attribute]"}.
_TRAIN_HOOKS = ["SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues",
                "CheckpointSaverHook", "CheckpointSaverListener", "FinalOpsHook", "LoggingTensorHook",
                "NanTensorHook", "ProfilerHook", "StepCounterHook", "StopAtStepHook", "SummarySaverHook",
                "SecondOrStepTimer", "VocabInfo"]

OVERRIDES: dict[str, dict[str, str]] = {
    # tf.keras.estimator.model_to_estimator (tf.keras itself is Keras 3's).
    "tensorflow": {"keras": "keras_estimator.tensorflow.keras"},
    "tensorflow.keras": {"estimator": "keras_estimator.tensorflow.keras_estimator",
                         "layers": "keras_estimator.tensorflow.keras_layers",
                         "optimizers": "keras_estimator.tensorflow.keras_optimizers"},
    # Keras 2's optimizers, which tf.estimator 2.11-2.15's premade estimators required.
    "tensorflow.keras.optimizers": {"legacy": "keras_estimator.tensorflow.keras_optimizers_legacy"},
    "tensorflow.keras.layers": {"DenseFeatures": "keras_estimator:DenseFeatures"},
    "tensorflow.compat.v1": {"estimator": "keras_estimator.tensorflow.compat.v1.estimator", "train": "keras_estimator.tensorflow.compat.v1.train",
                             "layers": "keras_estimator.layers_v1", "keras": "keras_estimator.tensorflow.keras"},
    # TF 2.21 still has these in tf.compat.v1.train, for sessions: the Estimator's versions instead.
    "tensorflow.compat.v1.train": {name: f"keras_estimator:{name}" for name in _TRAIN_HOOKS},
    "tensorflow.compat.v2": {"estimator": "keras_estimator"},
}


def public_api() -> ModuleType:
    """The keras_estimator package: what `tf.estimator` was."""
    return importlib.import_module("keras_estimator")


def override(module_path: str, name: str) -> Any:
    """keras_estimator's object for `<module_path>.<name>`, or `MISSING` if TensorFlow's own."""
    target = OVERRIDES.get(module_path, {}).get(name)
    if target is None:
        return _MISSING
    module, _, attribute = target.partition(":")
    value = importlib.import_module(module)
    return getattr(value, attribute) if attribute else value


def resolve(module: ModuleType, module_path: str, name: str) -> Any:
    """`override(module_path, name)`, else `getattr(module, name)` (raising AttributeError)."""
    value = override(module_path, name)
    return getattr(module, name) if value is _MISSING else value


def names(module: ModuleType, module_path: str) -> list[str]:
    """dir() of a proxy: TensorFlow's names and the overridden ones."""
    return sorted(set(dir(module)) | set(OVERRIDES.get(module_path, {})))
