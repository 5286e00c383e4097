"""Tuners that record each trial's wall time and training steps, for the leaderboard.

`TimedTuner` is a mixin in keras-tuner's own idiom: it goes before a tuner class
(`class TimedRandomSearch(TimedTuner, keras_tuner.RandomSearch)`), takes its own constructor
arguments and passes the others on, and overrides the trial callbacks. The four tuners a sweep
uses are declared below.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

import keras_tuner

from keras_estimator.files import write_json_atomically
from keras_estimator.tuning.estimator_tuner import EstimatorTuner

TIMING_FILE = "timing.json"  # In each trial's directory: {"seconds": ..., "steps": ...}.


class TimedTuner:
    """Mixin for a keras-tuner tuner: writes `timing.json` in each finished trial's directory,
    counts the trials this tuner ran and calls `on_trial_end`.

    Args:
        trial_steps: `trial_steps(hp)`, the training steps of a trial with these
            hyperparameters (recorded as "steps").
        on_trial_end: Called with each finished keras-tuner `Trial`, after it is recorded;
            None calls nothing.
        *args, **kwargs: The tuner's own arguments.

    Attributes:
        trials_run: Trials this tuner object finished (a resumed sweep counts only its own).
    """

    def __init__(self, *args: Any, trial_steps: Callable[[keras_tuner.HyperParameters], int],
                 on_trial_end: Callable[[Any], None] | None = None, **kwargs: Any):
        self.trial_steps = trial_steps
        self.trial_end_callback = on_trial_end
        self.trials_run = 0
        self._trial_start = time.monotonic()
        super().__init__(*args, **kwargs)

    def on_trial_begin(self, trial) -> None:
        self._trial_start = time.monotonic()
        super().on_trial_begin(trial)

    def on_trial_end(self, trial) -> None:
        record = {"seconds": time.monotonic() - self._trial_start, "steps": self.trial_steps(trial.hyperparameters)}
        write_json_atomically(os.path.join(self.get_trial_dir(trial.trial_id), TIMING_FILE), record)
        super().on_trial_end(trial)
        self.trials_run += 1
        if self.trial_end_callback is not None:
            self.trial_end_callback(trial)


class TimedEstimatorTuner(TimedTuner, EstimatorTuner):
    """`EstimatorTuner` with trial timing (Estimator-mode sweeps, any oracle)."""


class TimedRandomSearch(TimedTuner, keras_tuner.RandomSearch):
    """keras-tuner's `RandomSearch` with trial timing (fit-mode sweeps)."""


class TimedBayesianOptimization(TimedTuner, keras_tuner.BayesianOptimization):
    """keras-tuner's `BayesianOptimization` with trial timing (fit-mode sweeps)."""


class TimedHyperband(TimedTuner, keras_tuner.Hyperband):
    """keras-tuner's `Hyperband` with trial timing (fit-mode sweeps)."""
