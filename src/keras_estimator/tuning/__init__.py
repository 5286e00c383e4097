"""keras-tuner sweeps of the numbers models, through Keras fit or the Estimator path; sits beside
the runtime, which never imports it. Needs the `tuning` extra (keras-tuner, num2words).

- `spec`: `SweepSpec`, one sweep read from TOML by `load_spec` (errors are `SpecError`).
- `hypermodel`: `SEARCH_SPACE` and `NumbersHyperModel`, a numbers model per trial.
- `estimator_tuner`: `EstimatorTuner`, a keras-tuner Tuner running trials through
  `model_to_estimator` and `train_and_evaluate`.
- `timed`: `TimedTuner`, the mixin recording each trial's time and steps, and the tuners with it.
- `leaderboard`: the rows of a sweep's trials, as a text table and as CSV.
- `sweep`: `run_sweep` (search, leaderboard, best params, best export; resumes).
"""

try:
    import keras_tuner  # noqa: F401
    import num2words  # noqa: F401
except ImportError as e:
    raise ImportError(
        f"keras_estimator.tuning needs {e.name or 'keras-tuner'}: pip install 'keras-estimator[tuning]'"
    ) from e

from keras_estimator.tuning.estimator_tuner import EstimatorTuner
from keras_estimator.tuning.hypermodel import SEARCH_SPACE, NumbersHyperModel
from keras_estimator.tuning.leaderboard import format_leaderboard, leaderboard
from keras_estimator.tuning.spec import SpecError, SweepSpec, load_spec
from keras_estimator.tuning.sweep import SweepResult, make_tuner, run_sweep
from keras_estimator.tuning.timed import TimedTuner

__all__ = [
    "SEARCH_SPACE",
    "EstimatorTuner",
    "SweepResult",
    "TimedTuner",
    "format_leaderboard",
    "leaderboard",
    "make_tuner",
    "run_sweep",
    "NumbersHyperModel",
    "SpecError",
    "SweepSpec",
    "load_spec",
]
