"""Running a sweep spec: keras-tuner search through Keras fit or the Estimator path, then a
leaderboard, the best hyperparameters as a params file, and the best trial's SavedModel.

Output layout under the sweep directory (default `tuning/results/<name>/`, git-ignored):

    trials/                 keras-tuner's project (oracle state, one trial_<id>/ per trial;
                            Estimator-mode trials keep their model_dir there); resumes a sweep
    leaderboard.csv, .json  one row per trial, best first
    best_params.json        the best trial's flat params (data + hyperparameters)
    export/<timestamp>/     the best trial's SavedModel, taking raw words
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from typing import Any, Callable

import keras_tuner

from keras_estimator.files import read_json, write_json_atomically, write_text_atomically
from keras_estimator.keras_bridge import model_to_estimator
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.numbers import data, serving_input_receiver_fn
from keras_estimator.run_config import RunConfig
from keras_estimator.tuning.hypermodel import NumbersHyperModel
from keras_estimator.tuning.leaderboard import format_leaderboard, leaderboard, leaderboard_csv
from keras_estimator.tuning.spec import SpecError, SweepSpec, load_spec
from keras_estimator.tuning.timed import (
    TimedBayesianOptimization, TimedEstimatorTuner, TimedHyperband, TimedRandomSearch, TimedTuner,
)

logger = logging.getLogger(__name__)

RESULTS_DIR = os.path.join("tuning", "results")
PROJECT = "trials"


@dataclasses.dataclass
class SweepResult:
    """What `run_sweep` produced.

    Attributes:
        directory: The sweep directory.
        leaderboard: One dict per trial, best first: trial, status, objective, steps, seconds
            and the trial's hyperparameters.
        best_params: The best trial's flat params (what the training command accepts).
        best_params_path: Where best_params was written (JSON).
        export_path: The best trial's SavedModel directory, or None if not exported.
        trials_run: Trials this call ran (fewer than max_trials when it resumed a sweep).
    """

    directory: str
    leaderboard: list[dict[str, Any]]
    best_params: dict[str, Any]
    best_params_path: str
    export_path: str | None
    trials_run: int


def _objective(spec: SweepSpec) -> keras_tuner.Objective:
    name = spec.objective if spec.mode == "estimator" else f"val_{spec.objective}"
    return keras_tuner.Objective(name, direction=spec.direction)


def _oracle_kwargs(spec: SweepSpec) -> dict[str, Any]:
    kwargs = {"objective": _objective(spec), "seed": spec.seed}
    if spec.oracle == "hyperband":
        kwargs.update(max_epochs=spec.max_epochs, factor=spec.hyperband_factor)
    else:
        kwargs["max_trials"] = spec.max_trials
    if spec.oracle == "bayesian":
        try:  # keras-tuner's Bayesian oracle needs both; import lazily (scikit-learn is slow).
            import scipy  # noqa: F401
            import sklearn  # noqa: F401
        except ImportError as e:
            raise ImportError(
                "The bayesian oracle needs scipy and scikit-learn: pip install 'keras-estimator[bayesian]'."
            ) from e
    return kwargs


def _steps_per_epoch(spec: SweepSpec) -> int:
    return spec.steps_per_trial // spec.max_epochs if spec.oracle == "hyperband" else spec.steps_per_trial


def make_tuner(
    spec: SweepSpec, directory: str | os.PathLike, overwrite: bool = False,
    on_trial_end: Callable[[Any], None] | None = None,
) -> TimedTuner:
    """The keras-tuner tuner for a spec: an `EstimatorTuner` (mode "estimator") or keras-tuner's
    own RandomSearch / BayesianOptimization / Hyperband on `NumbersHyperModel` (mode "fit"),
    each with `TimedTuner`'s trial timing.

    Args:
        spec: The sweep.
        directory: The sweep directory; the tuner's project is `<directory>/trials`.
        overwrite: Start over instead of resuming.
        on_trial_end: Called with each finished keras-tuner `Trial`, after it is recorded.

    Raises:
        ImportError: for the bayesian oracle without scipy and scikit-learn.
    """
    hypermodel = NumbersHyperModel(spec.data, spec.search_space, name=spec.name)
    common = {"directory": os.fspath(directory), "project_name": PROJECT, "overwrite": overwrite,
              "trial_steps": _trial_steps(_steps_per_epoch(spec)), "on_trial_end": on_trial_end}
    if spec.mode == "estimator":
        return _estimator_tuner(spec, hypermodel, common)
    tuner_cls = {"random": TimedRandomSearch, "bayesian": TimedBayesianOptimization,
                 "hyperband": TimedHyperband}[spec.oracle]
    return tuner_cls(hypermodel=hypermodel, **_oracle_kwargs(spec), **common)


def _estimator_tuner(spec: SweepSpec, hypermodel: NumbersHyperModel, common: dict[str, Any]) -> TimedTuner:
    oracle_cls = {
        "random": keras_tuner.oracles.RandomSearchOracle,
        "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
        "hyperband": keras_tuner.oracles.HyperbandOracle,
    }[spec.oracle]

    def input_fns(hp):
        params = hypermodel.params(hp)
        return (lambda: data.input_fn(params, ModeKeys.TRAIN)), (lambda: data.input_fn(params, ModeKeys.EVAL))

    return TimedEstimatorTuner(
        oracle_cls(**_oracle_kwargs(spec)), hypermodel, input_fns, steps_per_trial=spec.steps_per_trial,
        steps_per_epoch=_steps_per_epoch(spec), eval_steps=spec.eval_steps,
        config=RunConfig(tf_random_seed=spec.seed, log_step_count_steps=None), **common,
    )


def _trial_steps(steps_per_epoch: int) -> Callable[[keras_tuner.HyperParameters], int]:
    """A trial's training steps: Hyperband's epochs for the trial (1 for other oracles) times
    the steps of an epoch, as `EstimatorTuner.max_steps` and `NumbersHyperModel.fit` count."""
    def trial_steps(hp: keras_tuner.HyperParameters) -> int:
        return int(hp.values.get("tuner/epochs", 1)) * steps_per_epoch

    return trial_steps


def _search(tuner: keras_tuner.Tuner, spec: SweepSpec) -> None:
    if spec.mode == "estimator":
        tuner.search()
        return
    fit_kwargs: dict[str, Any] = {"validation_steps": spec.eval_steps} if spec.eval_steps else {}
    if spec.oracle == "hyperband":
        tuner.search(steps_per_epoch=_steps_per_epoch(spec), **fit_kwargs)
    else:
        tuner.search(steps_per_trial=spec.steps_per_trial, **fit_kwargs)


def run_sweep(
    spec: SweepSpec | str | os.PathLike,
    directory: str | os.PathLike | None = None,
    overwrite: bool = False,
    export: bool = True,
    on_trial_end: Callable[[Any], None] | None = None,
    print_fn: Callable[[str], None] | None = print,
) -> SweepResult:
    """Runs (or resumes) a sweep and writes its leaderboard, best params and best export.

    Rerunning over the same directory resumes: completed trials are kept and only the
    remaining ones run (an interrupted trial is rerun; in Estimator mode it continues from its
    last checkpoint).

    Args:
        spec: A `SweepSpec` or the path of a TOML sweep spec.
        directory: The sweep directory; default `tuning/results/<spec.name>`.
        overwrite: Delete earlier results of this sweep and start over.
        export: Export the best trial's SavedModel (raw-words signature) to `<directory>/export`.
        on_trial_end: Called with each finished keras-tuner `Trial` (e.g. for progress).
        print_fn: Where the leaderboard table is printed; None prints nothing.

    Returns:
        A `SweepResult`.

    Raises:
        SpecError: for an invalid spec file.
        SpecError: also if `directory` holds a sweep of a different spec (only `max_trials`
            may change between runs, to extend a sweep) and `overwrite` is False.
        RuntimeError: if no trial completed (the first failure's message is included).
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    directory = os.fspath(directory or os.path.join(RESULTS_DIR, spec.name))
    if not overwrite:
        _check_resumable(spec, directory)
    os.makedirs(directory, exist_ok=True)
    write_json_atomically(os.path.join(directory, "spec.json"), spec.to_dict())
    tuner = make_tuner(spec, directory, overwrite=overwrite, on_trial_end=on_trial_end)
    _search(tuner, spec)

    rows = leaderboard(tuner)
    _check_completed(tuner, rows, spec)
    write_json_atomically(os.path.join(directory, "leaderboard.json"), rows)
    write_text_atomically(os.path.join(directory, "leaderboard.csv"), leaderboard_csv(rows))

    best_trial = tuner.oracle.get_best_trials(1)[0]
    best_params = tuner.hypermodel.params(best_trial.hyperparameters)
    best_params_path = os.path.join(directory, "best_params.json")
    write_json_atomically(best_params_path, best_params)
    export_path = _export_best(tuner, spec, best_trial, best_params, directory) if export else None
    if print_fn is not None:
        print_fn(format_leaderboard(rows, spec.objective))
        print_fn(f"best params: {best_params_path}" + (f"\nbest export: {export_path}" if export_path else ""))
    return SweepResult(directory, rows, best_params, best_params_path, export_path, tuner.trials_run)


def _check_completed(tuner: TimedTuner, rows: list[dict[str, Any]], spec: SweepSpec) -> None:
    """Logs the failed trials; raises RuntimeError if none completed."""
    completed = [r for r in rows if r["status"] == "COMPLETED" and r["objective"] is not None]
    failed = [t for t in tuner.oracle.trials.values() if str(t.status) in ("FAILED", "INVALID")]
    for trial in failed:
        logger.warning("Trial %s failed: %s", trial.trial_id, (trial.message or "").strip().splitlines()[-1:])
    if not completed:
        detail = (failed[0].message or "").strip() if failed else "no trial ran"
        raise RuntimeError(f"Sweep {spec.name!r}: no trial completed. First failure:\n{detail}")


def _check_resumable(spec: SweepSpec, directory: str) -> None:
    """Resuming under another spec would mix trials of two searches in one leaderboard."""
    before, now = read_json(os.path.join(directory, "spec.json")), spec.to_dict()
    if before is None:
        return
    changed = sorted(
        f"[{section}].{key}"
        for section in set(before) | set(now)
        for key in set(before.get(section, {})) | set(now.get(section, {}))
        if (section, key) != ("sweep", "max_trials")
        and before.get(section, {}).get(key) != now.get(section, {}).get(key)
    )
    if changed:
        raise SpecError(
            f"{directory} holds a sweep run with a different spec ({', '.join(changed)} changed); "
            "pass overwrite=True (--overwrite) to start over, or use another directory.",
            field=changed[0], source=spec.source,
        )


def _export_best(tuner, spec, trial, params, directory) -> str:
    if spec.mode == "estimator":
        model_dir = tuner.trial_model_dir(trial.trial_id)
        estimator = model_to_estimator(tuner.hypermodel.build(trial.hyperparameters), model_dir=model_dir)
    else:  # The weights keras-tuner kept for the trial, through the Estimator's exporter.
        model_dir = os.path.join(directory, "best", f"trial_{trial.trial_id}")
        shutil.rmtree(model_dir, ignore_errors=True)
        estimator = model_to_estimator(tuner.load_model(trial), model_dir=model_dir)
    path = estimator.export_saved_model(os.path.join(directory, "export"), serving_input_receiver_fn(params))
    return path.decode() if isinstance(path, bytes) else path
