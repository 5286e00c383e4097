"""`train_and_evaluate`: train, evaluating new checkpoints and exporting as training goes."""

from __future__ import annotations

import collections.abc
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any, Callable, Iterable, NamedTuple

import tensorflow as tf

from keras_estimator import checkpoints as ckpt_lib
from keras_estimator import cluster as cluster_lib
from keras_estimator.errors import CheckpointDamagedError, CheckpointNotFoundError, ClusterTaskFailedError
from keras_estimator.estimator import Estimator
from keras_estimator.exporters import Exporter
from keras_estimator.files import read_json, write_json_atomically
from keras_estimator.validation import check_number, check_steps
from keras_estimator.hooks import CheckpointSaverListener, Hook, check_hooks
from keras_estimator.peer_health import reachable as _reachable

logger = logging.getLogger("keras_estimator")


class TrainSpec(
    NamedTuple("TrainSpec", [("input_fn", Callable), ("max_steps", Any), ("hooks", tuple)])
):
    """How `train_and_evaluate` trains.

    Args:
        input_fn: As for `Estimator.train`.
        max_steps: Train until the global step reaches this; None: until input_fn's data end.
        hooks: `Hook`s for training.

    Raises:
        ValueError: for a non-callable input_fn, max_steps <= 0, or hooks that are not Hooks.
    """

    def __new__(cls, input_fn: Callable, max_steps: int | None = None, hooks: Iterable[Hook] = ()):
        if not callable(input_fn):
            raise ValueError(f"TrainSpec input_fn must be callable, got {type(input_fn).__name__}.")
        check_steps("max_steps", max_steps)
        return super().__new__(cls, input_fn, max_steps, tuple(check_hooks(list(hooks), Hook, "TrainSpec hooks")))


class EvalSpec(
    NamedTuple("EvalSpec", [
        ("input_fn", Callable), ("steps", Any), ("name", Any), ("hooks", tuple), ("exporters", tuple),
        ("start_delay_secs", float), ("throttle_secs", float),
    ])
):
    """How `train_and_evaluate` evaluates and exports.

    Args:
        input_fn: As for `Estimator.evaluate`.
        steps: Batches per evaluation; None: until input_fn's data end.
        name: Evaluation name (summaries in `model_dir/eval_<name>`).
        hooks: `Hook`s for evaluation.
        exporters: An `Exporter` or a sequence of them (distinct names), run after each
            evaluation.
        start_delay_secs: The evaluator task of a cluster waits this long before its first
            evaluation (not for the final checkpoint). One process evaluates after its first
            checkpoint, without delay.
        throttle_secs: Evaluate a new checkpoint only if at least this many seconds passed
            since the last evaluation (0: every checkpoint). The final checkpoint is always
            evaluated.

    Raises:
        ValueError: for a non-callable input_fn, steps <= 0, negative delays, or exporters
            that are not Exporters or share a name.
    """

    def __new__(cls, input_fn: Callable, steps: int | None = 100, name: str | None = None,
                hooks: Iterable[Hook] = (), exporters: Exporter | Iterable[Exporter] = (),
                start_delay_secs: float = 120, throttle_secs: float = 600):
        if not callable(input_fn):
            raise ValueError(f"EvalSpec input_fn must be callable, got {type(input_fn).__name__}.")
        check_steps("steps", steps)
        for what, value in (("start_delay_secs", start_delay_secs), ("throttle_secs", throttle_secs)):
            check_number(f"EvalSpec {what}", value)
        if isinstance(exporters, Exporter):
            exporters = (exporters,)
        elif isinstance(exporters, collections.abc.Iterable) and not isinstance(exporters, (str, bytes, Mapping)):
            exporters = tuple(exporters)
        elif exporters is None:
            exporters = ()
        else:
            raise ValueError(
                f"EvalSpec exporters must be an Exporter or a list of Exporters, got {type(exporters).__name__}."
            )
        for exporter in exporters:
            if not isinstance(exporter, Exporter):
                raise ValueError(f"EvalSpec exporters must be Exporters, got {type(exporter).__name__}.")
        names = [e.name for e in exporters]
        if len(set(names)) != len(names):
            raise ValueError(f"EvalSpec exporters must have distinct names, got {names}.")
        hooks = tuple(check_hooks(list(hooks), Hook, "EvalSpec hooks"))
        return super().__new__(cls, input_fn, steps, name, hooks, exporters,
                               float(start_delay_secs), float(throttle_secs))


def train_and_evaluate(
    estimator: Estimator, train_spec: TrainSpec, eval_spec: EvalSpec
) -> tuple[dict | None, list]:
    """Trains `estimator`, evaluating new checkpoints and exporting after each evaluation.

    Every task of a cluster runs the same call; what it does depends on its role in
    `TF_CONFIG` (`estimator.config.task_type`):

    - One process (no TF_CONFIG cluster): trains; after a checkpoint is saved it is evaluated
      if `eval_spec.throttle_secs` have passed since the last evaluation, and the final
      checkpoint always is; exporters run after each evaluation (`is_the_final_export` for
      the final one). If training has nothing left to do (max_steps reached), the latest
      checkpoint is evaluated and exported as the final one.
    - `chief` and `worker`: train together (under `RunConfig(train_distribute=...)`); they do
      not evaluate. The chief records where training ended (`training_end.json` in
      model_dir) for the evaluator.
    - `evaluator`: trains nothing and needs no strategy. It waits `start_delay_secs`, then
      evaluates each new checkpoint in model_dir (at most one evaluation per
      `throttle_secs`; the final checkpoint at once), writing the results to
      `model_dir/eval` (or `eval_<name>`) and running the exporters. It returns after
      evaluating the final checkpoint: the one at `train_spec.max_steps`, or the last one
      the chief saved when it finished earlier (a hook stopped it, or its data ended).

    Returns:
        `(eval_result, export_results)`: the final evaluation's results and what each exporter
        returned for it. On a chief or worker, `eval_result` is the training's end instead:
        `{"global_step": ..., "loss": ...}` (the last step's loss), and `export_results` is [].

    Raises:
        ValueError: if the arguments are not an Estimator, a TrainSpec and an EvalSpec, for a
            `ps` task (parameter-server training is not supported), or for an evaluator whose
            TF_CONFIG names no chief.
        ClusterTaskFailedError: on the evaluator, if the chief went away before saving its
            final checkpoint; on training tasks, as for `Estimator.train`.
        Errors of `Estimator.train`, `Estimator.evaluate` and the exporters.
    """
    if not isinstance(estimator, Estimator):
        raise ValueError(f"estimator must be a keras_estimator.Estimator, got {type(estimator).__name__}.")
    if not isinstance(train_spec, TrainSpec):
        raise ValueError(f"train_spec must be a TrainSpec, got {type(train_spec).__name__}.")
    if not isinstance(eval_spec, EvalSpec):
        raise ValueError(f"eval_spec must be an EvalSpec, got {type(eval_spec).__name__}.")
    config = estimator.config
    if config.task_type == cluster_lib.EVALUATOR:
        return _ContinuousEvaluator(estimator, train_spec, eval_spec).run()
    if config.task_type == cluster_lib.PS:
        raise ValueError(
            "TF_CONFIG names this task 'ps': parameter-server training is not supported. Train with "
            "chief and worker tasks under tf.distribute.MultiWorkerMirroredStrategy."
        )
    if config.cluster_spec:
        return _train_in_cluster(estimator, train_spec)
    listener = _EvaluateAfterSave(estimator, eval_spec, train_spec.max_steps)
    estimator.train(
        train_spec.input_fn, hooks=list(train_spec.hooks), max_steps=train_spec.max_steps,
        saving_listeners=[listener],
    )
    if not listener.final_done:
        latest = estimator.latest_checkpoint()
        if latest is None:
            logger.warning("train_and_evaluate: training wrote no checkpoint; nothing to evaluate.")
            return None, []
        listener.evaluate_and_export(latest, ckpt_lib.step_of(latest), final=True)
    return listener.eval_result, listener.export_results


TRAINING_END_FILE = "training_end.json"  # Written by the chief when train_and_evaluate trained to its end.


def _train_in_cluster(estimator: Estimator, train_spec: TrainSpec) -> tuple[dict, list]:
    config = estimator.config
    if config.is_chief and "evaluator" not in json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {}):
        logger.warning(
            "train_and_evaluate: TF_CONFIG lists no evaluator; chief and workers only train. Run an "
            "'evaluator' task to evaluate checkpoints and run the exporters."
        )
    estimator.train(train_spec.input_fn, hooks=list(train_spec.hooks), max_steps=train_spec.max_steps)
    result = estimator.last_train_result or {"global_step": 0, "loss": None}
    if config.is_chief:
        write_json_atomically(
            os.path.join(estimator.model_dir, TRAINING_END_FILE),
            {"global_step": result["global_step"], "max_steps": train_spec.max_steps}, indent=None,
        )
    return result, []


def _read_training_end(model_dir: str) -> dict | None:
    try:
        value = read_json(os.path.join(model_dir, TRAINING_END_FILE))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


class _ContinuousEvaluator:
    """The evaluator task: evaluates new checkpoints until the final one.

    Training has ended when a checkpoint reaches max_steps, or when the chief's server stops
    answering (its process exited) and the chief recorded where it ended; a chief that went
    away without recording it failed, and the evaluator says so instead of waiting for ever.
    """

    POLL_SECS = 1.0
    PROBES_TO_GONE = 3  # Refused connections in a row before the chief counts as gone.
    STARTUP_GRACE_SECS = 600.0  # A chief never reachable for this long counts as gone.

    def __init__(self, estimator: Estimator, train_spec: TrainSpec, eval_spec: EvalSpec):
        self._est = estimator
        self._max_steps = train_spec.max_steps
        self._spec = eval_spec
        self._chief = estimator.config.chief_address
        if self._chief is None:
            raise ValueError(
                "The evaluator task needs TF_CONFIG's cluster, with its chief: it evaluates the chief's "
                "checkpoints and watches the chief to know when training ended."
            )
        self._runner = _EvaluateAfterSave(estimator, eval_spec, train_spec.max_steps)
        self._chief_seen = False
        self._refusals = 0

    def run(self) -> tuple[dict | None, list]:
        started = time.monotonic()
        next_eval = started + self._spec.start_delay_secs
        evaluated: str | None = None
        logger.info("Evaluator: waiting for checkpoints in %s (chief %s).", self._est.model_dir, self._chief)
        while True:
            latest = self._est.latest_checkpoint()
            step = ckpt_lib.step_of(latest) if latest else None
            final = step is not None and self._max_steps is not None and step >= self._max_steps
            if latest != evaluated and latest is not None and (final or time.monotonic() >= next_eval):
                next_eval = time.monotonic() + self._spec.throttle_secs
                if self._evaluate(latest, step, final):
                    evaluated = latest
                    if final:
                        return self._runner.eval_result, self._runner.export_results
                continue
            if self._chief_gone(started):
                return self._finish()
            time.sleep(self.POLL_SECS)

    def _evaluate(self, path: str, step: int, final: bool) -> bool:
        try:
            self._runner.evaluate_and_export(path, step, final)
        except (tf.errors.NotFoundError, CheckpointNotFoundError, CheckpointDamagedError):
            if path in ckpt_lib.listed(self._est.model_dir):
                raise
            # The chief's retention (keep_checkpoint_max) deleted it before it was read.
            logger.warning("Evaluator: checkpoint %s was deleted before it could be evaluated.", path)
            return False
        return True

    def _chief_gone(self, started: float) -> bool:
        if _reachable(self._chief):
            self._chief_seen, self._refusals = True, 0
            return False
        self._refusals += 1
        if self._chief_seen:
            return self._refusals >= self.PROBES_TO_GONE
        return time.monotonic() - started >= self.STARTUP_GRACE_SECS

    def _finish(self) -> tuple[dict | None, list]:
        """The chief is gone: evaluate its last checkpoint as the final one, if it finished."""
        latest = self._est.latest_checkpoint()
        step = ckpt_lib.step_of(latest) if latest else 0
        end = _read_training_end(self._est.model_dir) or {}
        finished = (self._max_steps is not None and step >= self._max_steps) or (
            latest is not None and end.get("global_step") == step and end.get("max_steps") == self._max_steps
        )
        if not finished:
            raise ClusterTaskFailedError(
                step, self._est.model_dir,
                f"the chief at {self._chief} is gone and did not finish training"
                + ("" if self._max_steps is None else f" (max_steps {self._max_steps})"),
            )
        logger.info("Evaluator: the chief finished training at step %d.", step)
        self._runner.evaluate_and_export(latest, step, final=True)
        return self._runner.eval_result, self._runner.export_results


class _EvaluateAfterSave(CheckpointSaverListener):
    def __init__(self, estimator: Estimator, eval_spec: EvalSpec, max_steps: int | None):
        self._est = estimator
        self._spec = eval_spec
        self._max_steps = max_steps
        self._last_time: float | None = None
        self._last_step: int | None = None
        self._exported: dict[str, tuple] = {}  # Exporter name -> (checkpoint, its export).
        self.eval_result: dict | None = None
        self.export_results: list = []
        self.final_done = False

    def after_save(self, global_step: int, checkpoint_path: str) -> bool:
        final = self._max_steps is not None and global_step >= self._max_steps
        due = self._last_time is None or time.time() - self._last_time >= self._spec.throttle_secs
        if final or due:
            self.evaluate_and_export(checkpoint_path, global_step, final)
        return False

    def end(self, global_step: int) -> None:
        latest = self._est.latest_checkpoint()
        if latest is not None and not self.final_done:
            self.evaluate_and_export(latest, global_step, final=True)

    def evaluate_and_export(self, checkpoint_path: str, step: int, final: bool) -> None:
        if self._last_step != step:
            self._last_time = time.time()
            self.eval_result = self._est.evaluate(
                self._spec.input_fn, steps=self._spec.steps, hooks=list(self._spec.hooks),
                checkpoint_path=checkpoint_path, name=self._spec.name,
            )
            self._last_step = step
        results = []
        for exporter in self._spec.exporters:
            done = self._exported.get(exporter.name)
            if done is not None and done[0] == checkpoint_path:
                results.append(done[1])  # Already exported this checkpoint.
                continue
            path = os.path.join(self._est.model_dir, "export", exporter.name)
            result = exporter.export(self._est, path, checkpoint_path, self.eval_result, final)
            if result is not None:
                self._exported[exporter.name] = (checkpoint_path, result)
            results.append(result)
        self.export_results = results
        self.final_done = self.final_done or final
