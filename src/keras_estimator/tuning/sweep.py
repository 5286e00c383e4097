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

import csv
import dataclasses
import io
import json
import logging
import math
import os
import shutil
import time
from typing import Any, Callable

import keras_tuner

from keras_estimator.files import write_text_atomically
from keras_estimator.keras_bridge import model_to_estimator
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.numbers import data, serving_input_receiver_fn
from keras_estimator.run_config import RunConfig
from keras_estimator.tuning.estimator_tuner import EstimatorTuner
from keras_estimator.tuning.hypermodel import NumbersHyperModel
from keras_estimator.tuning.spec import SpecError, SweepSpec, load_spec

logger = logging.getLogger(__name__)

RESULTS_DIR = os.path.join("tuning", "results")
PROJECT = "trials"
_TIMING = "timing.json"


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


class _TimedMixin:
    """Records each trial's wall time and training steps in its directory (`timing.json`)."""

    def on_trial_begin(self, trial):
        self._trial_start = time.monotonic()
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        record = {"seconds": time.monotonic() - self._trial_start, "steps": self._trial_steps(trial.hyperparameters)}
        _write_json(os.path.join(self.get_trial_dir(trial.trial_id), _TIMING), record)
        super().on_trial_end(trial)
        self._trials_run = getattr(self, "_trials_run", 0) + 1
        if self._on_trial_end is not None:
            self._on_trial_end(trial)


def _tuner_class(base: type) -> type:
    return type(f"Timed{base.__name__}", (_TimedMixin, base), {})


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
) -> keras_tuner.Tuner:
    """The keras-tuner tuner for a spec: an `EstimatorTuner` (mode "estimator") or keras-tuner's
    own RandomSearch / BayesianOptimization / Hyperband on `NumbersHyperModel` (mode "fit").

    Args:
        spec: The sweep.
        directory: The sweep directory; the tuner's project is `<directory>/trials`.
        overwrite: Start over instead of resuming.
        on_trial_end: Called with each finished keras-tuner `Trial`, after it is recorded.

    Raises:
        ImportError: for the bayesian oracle without scipy and scikit-learn.
    """
    hypermodel = NumbersHyperModel(spec.data, spec.search_space, name=spec.name)
    common = {"directory": os.fspath(directory), "project_name": PROJECT, "overwrite": overwrite}
    kwargs = _oracle_kwargs(spec)
    spe = _steps_per_epoch(spec)
    if spec.mode == "estimator":
        oracle_cls = {
            "random": keras_tuner.oracles.RandomSearchOracle,
            "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
            "hyperband": keras_tuner.oracles.HyperbandOracle,
        }[spec.oracle]

        def input_fns(hp):
            params = hypermodel.params(hp)
            return (lambda: data.input_fn(params, ModeKeys.TRAIN)), (lambda: data.input_fn(params, ModeKeys.EVAL))

        tuner = _tuner_class(EstimatorTuner)(
            oracle_cls(**kwargs), hypermodel, input_fns, steps_per_trial=spec.steps_per_trial,
            steps_per_epoch=spe, eval_steps=spec.eval_steps,
            config=RunConfig(tf_random_seed=spec.seed, log_step_count_steps=None), **common,
        )
        tuner._trial_steps = tuner.max_steps
    else:
        base = {"random": keras_tuner.RandomSearch, "bayesian": keras_tuner.BayesianOptimization,
                "hyperband": keras_tuner.Hyperband}[spec.oracle]
        tuner = _tuner_class(base)(hypermodel=hypermodel, **kwargs, **common)

        def trial_steps(hp):
            return int(hp.values.get("tuner/epochs", 1)) * spe

        tuner._trial_steps = trial_steps
    tuner._on_trial_end = on_trial_end
    return tuner


def _search(tuner: keras_tuner.Tuner, spec: SweepSpec) -> None:
    if spec.mode == "estimator":
        tuner.search()
        return
    fit_kwargs: dict[str, Any] = {"validation_steps": spec.eval_steps} if spec.eval_steps else {}
    if spec.oracle == "hyperband":
        tuner.search(steps_per_epoch=_steps_per_epoch(spec), **fit_kwargs)
    else:
        tuner.search(steps_per_trial=spec.steps_per_trial, **fit_kwargs)


def leaderboard(tuner: keras_tuner.Tuner) -> list[dict[str, Any]]:
    """One row per trial (trial, status, objective, steps, seconds, hyperparameters), completed
    trials best first, then the others."""
    rows = []
    for trial in tuner.oracle.trials.values():
        timing_path = os.path.join(tuner.get_trial_dir(trial.trial_id), _TIMING)
        timing = _read_json(timing_path) if os.path.exists(timing_path) else {}
        rows.append({
            "trial": trial.trial_id,
            "status": str(trial.status),
            "objective": None if trial.score is None else float(trial.score),
            "steps": timing.get("steps"),
            "seconds": None if timing.get("seconds") is None else round(float(timing["seconds"]), 2),
            **{k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")},
        })
    sign = -1.0 if tuner.oracle.objective.direction == "max" else 1.0
    rows.sort(key=lambda r: (r["objective"] is None, sign * (r["objective"] or 0.0), r["trial"]))
    return rows


def format_leaderboard(rows: list[dict[str, Any]], objective: str) -> str:
    """The leaderboard as a plain-text table."""
    if not rows:
        return "(no trials)"
    fixed = ["trial", "status", "objective", "steps", "seconds"]
    hp_keys = sorted({k for r in rows for k in r} - set(fixed))
    header = ["trial", "status", objective, "steps", "seconds"] + hp_keys
    table = [header] + [[_cell(r.get(k)) for k in fixed + hp_keys] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


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
    _write_json(os.path.join(directory, "spec.json"), spec.to_dict())
    tuner = make_tuner(spec, directory, overwrite=overwrite, on_trial_end=on_trial_end)
    _search(tuner, spec)

    rows = leaderboard(tuner)
    completed = [r for r in rows if r["status"] == "COMPLETED" and r["objective"] is not None]
    failed = [t for t in tuner.oracle.trials.values() if str(t.status) in ("FAILED", "INVALID")]
    for trial in failed:
        logger.warning("Trial %s failed: %s", trial.trial_id, (trial.message or "").strip().splitlines()[-1:])
    if not completed:
        detail = (failed[0].message or "").strip() if failed else "no trial ran"
        raise RuntimeError(f"Sweep {spec.name!r}: no trial completed. First failure:\n{detail}")
    _write_json(os.path.join(directory, "leaderboard.json"), rows)
    write_text_atomically(os.path.join(directory, "leaderboard.csv"), _csv(rows))

    best_trial = tuner.oracle.get_best_trials(1)[0]
    best_params = tuner.hypermodel.params(best_trial.hyperparameters)
    best_params_path = os.path.join(directory, "best_params.json")
    _write_json(best_params_path, best_params)
    export_path = _export_best(tuner, spec, best_trial, best_params, directory) if export else None
    if print_fn is not None:
        print_fn(format_leaderboard(rows, spec.objective))
        print_fn(f"best params: {best_params_path}" + (f"\nbest export: {export_path}" if export_path else ""))
    return SweepResult(directory, rows, best_params, best_params_path, export_path,
                       getattr(tuner, "_trials_run", 0))


def _check_resumable(spec: SweepSpec, directory: str) -> None:
    """Resuming under another spec would mix trials of two searches in one leaderboard."""
    path = os.path.join(directory, "spec.json")
    if not os.path.exists(path):
        return
    before, now = _read_json(path), spec.to_dict()
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


def _csv(rows: list[dict[str, Any]]) -> str:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _write_json(path: str, value: Any) -> None:
    write_text_atomically(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)
