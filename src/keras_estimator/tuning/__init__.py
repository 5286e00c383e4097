"""keras-tuner sweeps of the numbers models, through Keras fit or the Estimator path; sits beside
the runtime, which never imports it.

- `spec`: `SweepSpec`, one sweep read from TOML by `load_spec` (errors are `SpecError`).
- `hypermodel`: `SEARCH_SPACE` and `NumbersHyperModel`, a numbers model per trial.
"""

from keras_estimator.tuning.hypermodel import SEARCH_SPACE, NumbersHyperModel
from keras_estimator.tuning.spec import SpecError, SweepSpec, load_spec

__all__ = [
    "SEARCH_SPACE",
    "NumbersHyperModel",
    "SpecError",
    "SweepSpec",
    "load_spec",
]
