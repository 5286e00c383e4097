"""keras-estimator: the TensorFlow Estimator workflow on Keras 3 and TensorFlow 2.16+.

Migrating from tf.estimator is an import change for the names below:

    import keras_estimator as estimator   # was: tf.estimator
"""

from keras_estimator import export
from keras_estimator.context import get_global_step
from keras_estimator.errors import (
    CheckpointNotFoundError,
    InputError,
    MissingFeatureError,
    NanLossDuringTrainingError,
)
from keras_estimator.estimator import Estimator, WarmStartSettings
from keras_estimator.keras_bridge import load_keras_model, model_to_estimator
from keras_estimator.exporters import BestExporter, Exporter, FinalExporter, LatestExporter
from keras_estimator.hooks import CheckpointSaverListener, Hook, RunContext, StopAtStepHook
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.optimization import minimize
from keras_estimator.run_config import RunConfig
from keras_estimator.spec import EstimatorSpec
from keras_estimator.training import EvalSpec, TrainSpec, train_and_evaluate

__version__ = "0.1.0"

__all__ = [
    "BestExporter",
    "EvalSpec",
    "Exporter",
    "FinalExporter",
    "LatestExporter",
    "TrainSpec",
    "export",
    "train_and_evaluate",
    "CheckpointNotFoundError",
    "CheckpointSaverListener",
    "Estimator",
    "EstimatorSpec",
    "Hook",
    "InputError",
    "MissingFeatureError",
    "ModeKeys",
    "NanLossDuringTrainingError",
    "RunConfig",
    "RunContext",
    "StopAtStepHook",
    "WarmStartSettings",
    "get_global_step",
    "load_keras_model",
    "minimize",
    "model_to_estimator",
]
