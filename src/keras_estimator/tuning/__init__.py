"""keras-tuner sweeps of the numbers models, through Keras fit or the Estimator path; sits beside
the runtime, which never imports it.

- `spec`: `SweepSpec`, one sweep read from TOML by `load_spec` (errors are `SpecError`).
- `hypermodel`: `SEARCH_SPACE` and `NumbersHyperModel`, a numbers model per trial.
- `estimator_tuner`: `EstimatorTuner`, a keras-tuner Tuner running trials through
  `model_to_estimator` and `train_and_evaluate`.
- `sweep`: `run_sweep` (search, leaderboard, best params, best export; resumes).
"""

from keras_estimator.tuning.estimator_tuner import EstimatorTuner
from keras_estimator.tuning.hypermodel import SEARCH_SPACE, NumbersHyperModel
from keras_estimator.tuning.spec import SpecError, SweepSpec, load_spec
from keras_estimator.tuning.sweep import SweepResult, format_leaderboard, leaderboard, make_tuner, run_sweep

__all__ = [
    "SEARCH_SPACE",
    "EstimatorTuner",
    "SweepResult",
    "format_leaderboard",
    "leaderboard",
    "make_tuner",
    "run_sweep",
    "NumbersHyperModel",
    "SpecError",
    "SweepSpec",
    "load_spec",
]
