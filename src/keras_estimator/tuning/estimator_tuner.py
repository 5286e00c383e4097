"""A keras-tuner Tuner whose trials run through the Estimator path.

Each trial builds the hypermodel's compiled Keras model, converts it with `model_to_estimator`
into the trial's own model_dir (`<project>/trial_<id>/model_dir`) and runs `train_and_evaluate`:
the checkpoints, evaluation and export a production run uses, not Keras `fit`.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from typing import Callable

import keras_tuner
import tensorflow as tf

from keras_estimator.exporters import Exporter
from keras_estimator.keras_bridge import load_keras_model, model_to_estimator
from keras_estimator.run_config import RunConfig
from keras_estimator.training import EvalSpec, TrainSpec, train_and_evaluate
from keras_estimator.validation import is_int

logger = logging.getLogger(__name__)


class _NoRetracingWarning(logging.Filter):
    """Each trial is a new Estimator whose loops trace once; TensorFlow's retracing detector
    counts those traces across instances and warns after a few trials. Nothing to fix there."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


# Hyperband's bookkeeping values in a trial's hyperparameters.
_EPOCHS, _INITIAL_EPOCH, _PREVIOUS_TRIAL = "tuner/epochs", "tuner/initial_epoch", "tuner/trial_id"


class EstimatorTuner(keras_tuner.Tuner):
    """Runs each trial with `model_to_estimator` and `train_and_evaluate`.

    Works with any keras-tuner oracle. With Hyperband, a trial's budget of "epochs" is
    `steps_per_epoch` training steps each, and a trial continuing an earlier one starts from a
    copy of that trial's model_dir, so its checkpoints and optimizer state carry over.
    A trial interrupted by a crash is rerun by keras-tuner on resume and continues from its
    last checkpoint.

    Args:
        oracle: A `keras_tuner.Oracle` (random, Bayesian, Hyperband...). Its objective names a
            key of `Estimator.evaluate`'s result (e.g. "accuracy", "loss").
        hypermodel: A `keras_tuner.HyperModel` (or a function of `hp`) returning a compiled
            Keras model.
        input_fns: `input_fns(hp) -> (train_input_fn, eval_input_fn)`, so data settings such as
            the batch size can be hyperparameters.
        steps_per_trial: Training steps of a trial (oracles other than Hyperband).
        steps_per_epoch: Training steps per Hyperband epoch; defaults to `steps_per_trial`.
        eval_steps: Evaluation batches per evaluation; None reads the eval input to its end.
        config: A `RunConfig` template for the trials (model_dir is set per trial).
        exporters: `exporters(hp) -> list of Exporter` run after each trial's final evaluation
            (e.g. a `FinalExporter`), or None.
        directory, project_name, overwrite: As for keras-tuner tuners; rerunning with
            `overwrite=False` resumes the search.

    Raises:
        ValueError: for a non-positive step count or a missing input_fns.
    """

    def __init__(
        self,
        oracle: keras_tuner.Oracle,
        hypermodel: keras_tuner.HyperModel | Callable,
        input_fns: Callable[[keras_tuner.HyperParameters], tuple[Callable, Callable]],
        steps_per_trial: int = 300,
        steps_per_epoch: int | None = None,
        eval_steps: int | None = None,
        config: RunConfig | None = None,
        exporters: Callable[[keras_tuner.HyperParameters], list[Exporter]] | None = None,
        directory: str | os.PathLike | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
    ):
        if not callable(input_fns):
            raise ValueError("EstimatorTuner input_fns must be a function of hp returning (train, eval) input_fns.")
        for what, value in (("steps_per_trial", steps_per_trial), ("steps_per_epoch", steps_per_epoch),
                            ("eval_steps", eval_steps)):
            if value is not None and (not is_int(value) or value <= 0):
                raise ValueError(f"EstimatorTuner {what} must be a positive integer, got {value!r}.")
        self.input_fns = input_fns
        self.steps_per_trial = steps_per_trial
        self.steps_per_epoch = steps_per_epoch or steps_per_trial
        self.eval_steps = eval_steps
        self.config = config or RunConfig(log_step_count_steps=None)
        self.exporters = exporters
        super().__init__(oracle, hypermodel=hypermodel, directory=os.fspath(directory) if directory else None,
                         project_name=project_name, overwrite=overwrite)

    def trial_model_dir(self, trial_id: str) -> str:
        """The model_dir of a trial's Estimator."""
        return os.path.join(self.get_trial_dir(trial_id), "model_dir")

    def max_steps(self, hp: keras_tuner.HyperParameters) -> int:
        """The global step a trial trains to."""
        if _EPOCHS in hp.values:
            return int(hp.values[_EPOCHS]) * self.steps_per_epoch
        return self.steps_per_trial

    def run_trial(self, trial, *args, **kwargs) -> dict[str, float]:
        """Trains and evaluates one trial through the Estimator path; returns its evaluation
        metrics (plus `seconds`, the trial's wall time)."""
        hp = trial.hyperparameters
        model_dir = self.trial_model_dir(trial.trial_id)
        self._continue_from(hp.values.get(_PREVIOUS_TRIAL), model_dir)
        start = time.monotonic()
        estimator = model_to_estimator(self.hypermodel.build(hp), model_dir=model_dir,
                                       config=self.config.replace(model_dir=model_dir))
        train_input_fn, eval_input_fn = self.input_fns(hp)
        exporters = list(self.exporters(hp)) if self.exporters else []
        tf_logger, quiet = tf.get_logger(), _NoRetracingWarning()
        tf_logger.addFilter(quiet)
        try:
            result, _ = train_and_evaluate(
                estimator,
                TrainSpec(train_input_fn, max_steps=self.max_steps(hp)),
                EvalSpec(eval_input_fn, steps=self.eval_steps, exporters=exporters,
                         start_delay_secs=0, throttle_secs=float("inf")),
            )
        finally:
            tf_logger.removeFilter(quiet)
        metrics = {k: float(v) for k, v in result.items() if k != "global_step"}
        metrics["steps"] = float(result["global_step"])
        metrics["seconds"] = time.monotonic() - start
        return metrics

    def _continue_from(self, previous_trial_id: str | None, model_dir: str) -> None:
        """Hyperband: start from a copy of the earlier trial's model_dir (copied, then renamed,
        so a crash never leaves a half copy that looks like a checkpointed run)."""
        if not previous_trial_id or tf.train.latest_checkpoint(model_dir):
            return
        source = self.trial_model_dir(previous_trial_id)
        if not tf.train.latest_checkpoint(source):
            return
        partial = model_dir + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial, ignore=shutil.ignore_patterns("export", "events.out.tfevents.*"))
        shutil.rmtree(model_dir, ignore_errors=True)
        os.rename(partial, model_dir)

    def save_model(self, trial_id, model, step=0):
        """Nothing to do: the trial's Estimator already checkpointed its model_dir."""

    def load_model(self, trial):
        """The trial's trained Keras model, from its latest checkpoint."""
        return load_keras_model(self.trial_model_dir(trial.trial_id))
