"""`train_and_evaluate`: train, evaluating new checkpoints and exporting as training goes."""

from __future__ import annotations

import logging
import os
import time
import collections.abc
from collections.abc import Mapping
from typing import Any, Callable, Iterable, NamedTuple

from keras_estimator import checkpoints as ckpt_lib
from keras_estimator.estimator import Estimator, _check_positive
from keras_estimator.exporters import Exporter
from keras_estimator.hooks import CheckpointSaverListener, Hook, check_hooks

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
        _check_positive("max_steps", max_steps)
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
        start_delay_secs: Kept for tf.estimator compatibility; a single process evaluates
            after the first checkpoint, without delay.
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
        _check_positive("steps", steps)
        for what, value in (("start_delay_secs", start_delay_secs), ("throttle_secs", throttle_secs)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"EvalSpec {what} must be a number >= 0, got {value!r}.")
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
    """Trains `estimator`, evaluating checkpoints as they are saved and exporting after each
    evaluation (single process).

    An evaluation runs after a checkpoint is saved if `eval_spec.throttle_secs` have passed
    since the last one, and always on the final checkpoint; exporters run after each
    evaluation (`is_the_final_export` for the final one). If training has nothing left to do
    (max_steps reached), the latest checkpoint is evaluated and exported as the final one.

    Returns:
        The final evaluation's results and the list of what each exporter returned for it.

    Raises:
        ValueError: if the arguments are not an Estimator, a TrainSpec and an EvalSpec.
        Errors of `Estimator.train`, `Estimator.evaluate` and the exporters.
    """
    if not isinstance(estimator, Estimator):
        raise ValueError(f"estimator must be a keras_estimator.Estimator, got {type(estimator).__name__}.")
    if not isinstance(train_spec, TrainSpec):
        raise ValueError(f"train_spec must be a TrainSpec, got {type(train_spec).__name__}.")
    if not isinstance(eval_spec, EvalSpec):
        raise ValueError(f"eval_spec must be an EvalSpec, got {type(eval_spec).__name__}.")
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
