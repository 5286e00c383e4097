"""keras-estimator: the TensorFlow Estimator workflow on Keras 3 and TensorFlow 2.16+.

Migrating from tf.estimator is an import change for the names below:

    import keras_estimator as estimator   # was: tf.estimator
"""

import importlib
from typing import TYPE_CHECKING

# Names load on first use (PEP 562), so `keras-estimator --help` and usage errors answer before
# TensorFlow is imported and the command line can set TensorFlow's log level first.
_EXPORTS = {
    "export": "keras_estimator.export",
    "get_global_step": "keras_estimator.context",
    "CheckpointNotFoundError": "keras_estimator.errors",
    "CheckpointDamagedError": "keras_estimator.errors",
    "ModelDirInUseError": "keras_estimator.errors",
    "ClusterTaskFailedError": "keras_estimator.errors",
    "EstimatorSpecError": "keras_estimator.errors",
    "InputError": "keras_estimator.errors",
    "MissingFeatureError": "keras_estimator.errors",
    "NanLossDuringTrainingError": "keras_estimator.errors",
    "DenseFeatures": "keras_estimator.feature_columns",
    "LinearModel": "keras_estimator.canned.linear_model",
    "Estimator": "keras_estimator.estimator",
    "WarmStartSettings": "keras_estimator.estimator",
    "load_keras_model": "keras_estimator.keras_bridge",
    "model_to_estimator": "keras_estimator.keras_bridge",
    "BestExporter": "keras_estimator.exporters",
    "Exporter": "keras_estimator.exporters",
    "FinalExporter": "keras_estimator.exporters",
    "LatestExporter": "keras_estimator.exporters",
    "CheckpointSaverListener": "keras_estimator.hooks",
    "Hook": "keras_estimator.hooks",
    "RunContext": "keras_estimator.hooks",
    "StopAtStepHook": "keras_estimator.hooks",
    "ModeKeys": "keras_estimator.mode_keys",
    "minimize": "keras_estimator.optimization",
    "RunConfig": "keras_estimator.run_config",
    "EstimatorSpec": "keras_estimator.spec",
    "EvalSpec": "keras_estimator.training",
    "TrainSpec": "keras_estimator.training",
    "train_and_evaluate": "keras_estimator.training",
    "EarlyStoppingHook": "keras_estimator.early_stopping",
    "make_early_stopping_hook": "keras_estimator.early_stopping",
    "read_eval_metrics": "keras_estimator.early_stopping",
    "stop_if_higher_hook": "keras_estimator.early_stopping",
    "stop_if_lower_hook": "keras_estimator.early_stopping",
    "stop_if_no_decrease_hook": "keras_estimator.early_stopping",
    "stop_if_no_increase_hook": "keras_estimator.early_stopping",
    "experimental": "keras_estimator.experimental",
    "inputs": "keras_estimator.inputs",
    "predictor": "keras_estimator.predictor",
    "add_metrics": "keras_estimator.extenders",
    "classifier_parse_example_spec": "keras_estimator.parsing_utils",
    "regressor_parse_example_spec": "keras_estimator.parsing_utils",
    "SecondOrStepTimer": "keras_estimator.timers",
    "VocabInfo": "keras_estimator.vocab_info",
    "SessionRunHook": "keras_estimator.session_run_hook",
    "SessionRunArgs": "keras_estimator.session_run_hook",
    "SessionRunContext": "keras_estimator.session_run_hook",
    "SessionRunValues": "keras_estimator.session_run_hook",
    "CheckpointSaverHook": "keras_estimator.basic_hooks",
    "FinalOpsHook": "keras_estimator.basic_hooks",
    "LoggingTensorHook": "keras_estimator.basic_hooks",
    "NanTensorHook": "keras_estimator.basic_hooks",
    "ProfilerHook": "keras_estimator.basic_hooks",
    "StepCounterHook": "keras_estimator.basic_hooks",
    "SummarySaverHook": "keras_estimator.basic_hooks",
    "DNNClassifier": "keras_estimator.canned.dnn",
    "DNNEstimator": "keras_estimator.canned.dnn",
    "DNNRegressor": "keras_estimator.canned.dnn",
    "LinearClassifier": "keras_estimator.canned.linear",
    "LinearEstimator": "keras_estimator.canned.linear",
    "LinearRegressor": "keras_estimator.canned.linear",
    "DNNLinearCombinedClassifier": "keras_estimator.canned.dnn_linear_combined",
    "DNNLinearCombinedEstimator": "keras_estimator.canned.dnn_linear_combined",
    "DNNLinearCombinedRegressor": "keras_estimator.canned.dnn_linear_combined",
    "BaselineClassifier": "keras_estimator.canned.baseline",
    "BaselineEstimator": "keras_estimator.canned.baseline",
    "BaselineRegressor": "keras_estimator.canned.baseline",
    "BinaryClassHead": "keras_estimator.canned.classification_heads",
    "MultiClassHead": "keras_estimator.canned.classification_heads",
    "MultiLabelHead": "keras_estimator.canned.multi_label_head",
    "LogisticRegressionHead": "keras_estimator.canned.regression_heads",
    "PoissonRegressionHead": "keras_estimator.canned.regression_heads",
    "RegressionHead": "keras_estimator.canned.regression_heads",
    "MultiHead": "keras_estimator.canned.multi_head",
    "Head": "keras_estimator.canned.head",
    "MetricKeys": "keras_estimator.canned.metric_keys",
    "PredictionKeys": "keras_estimator.canned.metric_keys",
}

if TYPE_CHECKING:  # For type checkers and IDEs; tests/test_package.py keeps it equal to _EXPORTS.
    from keras_estimator.early_stopping import (
        EarlyStoppingHook,
        make_early_stopping_hook,
        read_eval_metrics,
        stop_if_higher_hook,
        stop_if_lower_hook,
        stop_if_no_decrease_hook,
        stop_if_no_increase_hook,
    )
    from keras_estimator import experimental, export, inputs, predictor
    from keras_estimator.context import get_global_step
    from keras_estimator.errors import (
        CheckpointDamagedError,
        CheckpointNotFoundError,
        ClusterTaskFailedError,
        EstimatorSpecError,
        InputError,
        MissingFeatureError,
        ModelDirInUseError,
        NanLossDuringTrainingError,
    )
    from keras_estimator.estimator import Estimator, WarmStartSettings
    from keras_estimator.feature_columns import DenseFeatures
    from keras_estimator.canned.linear_model import LinearModel
    from keras_estimator.keras_bridge import load_keras_model, model_to_estimator
    from keras_estimator.exporters import BestExporter, Exporter, FinalExporter, LatestExporter
    from keras_estimator.hooks import CheckpointSaverListener, Hook, RunContext, StopAtStepHook
    from keras_estimator.mode_keys import ModeKeys
    from keras_estimator.optimization import minimize
    from keras_estimator.run_config import RunConfig
    from keras_estimator.spec import EstimatorSpec
    from keras_estimator.training import EvalSpec, TrainSpec, train_and_evaluate
    from keras_estimator.extenders import add_metrics
    from keras_estimator.parsing_utils import classifier_parse_example_spec, regressor_parse_example_spec
    from keras_estimator.timers import SecondOrStepTimer
    from keras_estimator.vocab_info import VocabInfo
    from keras_estimator.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunHook, SessionRunValues
    from keras_estimator.basic_hooks import (
        CheckpointSaverHook,
        FinalOpsHook,
        LoggingTensorHook,
        NanTensorHook,
        ProfilerHook,
        StepCounterHook,
        SummarySaverHook,
    )
    from keras_estimator.canned.dnn import DNNClassifier, DNNEstimator, DNNRegressor
    from keras_estimator.canned.linear import LinearClassifier, LinearEstimator, LinearRegressor
    from keras_estimator.canned.dnn_linear_combined import DNNLinearCombinedClassifier, DNNLinearCombinedEstimator, DNNLinearCombinedRegressor
    from keras_estimator.canned.baseline import BaselineClassifier, BaselineEstimator, BaselineRegressor
    from keras_estimator.canned.classification_heads import BinaryClassHead, MultiClassHead
    from keras_estimator.canned.multi_label_head import MultiLabelHead
    from keras_estimator.canned.regression_heads import LogisticRegressionHead, PoissonRegressionHead, RegressionHead
    from keras_estimator.canned.multi_head import MultiHead
    from keras_estimator.canned.head import Head
    from keras_estimator.canned.metric_keys import MetricKeys, PredictionKeys


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'keras_estimator' has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    value = module if module.__name__ == f"keras_estimator.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})


__version__ = "0.1.0"

__all__ = sorted(_EXPORTS)
