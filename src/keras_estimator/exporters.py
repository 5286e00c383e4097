"""Exporters: SavedModels written after evaluations in `train_and_evaluate`.

Each exporter writes under `model_dir/export/<name>/<unix seconds>/` with
`Estimator.export_saved_model` (atomic: a crash leaves no partial version directory).
"""

from __future__ import annotations

import abc
import inspect
import logging
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any, Callable, Mapping

import numpy as np

from keras_estimator.files import read_json, write_json_atomically
from keras_estimator.saved_model import is_export_dir, remove_abandoned_temps
from keras_estimator.validation import is_int, is_simple_name

if TYPE_CHECKING:
    from keras_estimator.estimator import Estimator

logger = logging.getLogger("keras_estimator")

EVAL_RESULT_FILE = "eval_result.json"  # In assets.extra/ of each BestExporter export.


class Exporter(abc.ABC):
    """Writes an export after an evaluation."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """Directory name under `model_dir/export/`."""

    @abc.abstractmethod
    def export(
        self,
        estimator: "Estimator",
        export_path: str,
        checkpoint_path: str,
        eval_result: Mapping[str, Any],
        is_the_final_export: bool,
    ) -> bytes | None:
        """Exports `checkpoint_path` under `export_path`; returns the export directory or None."""


def loss_smaller(best_eval_result: Mapping[str, Any], current_eval_result: Mapping[str, Any]) -> bool:
    """True if the current evaluation's loss is smaller than the best one's.

    Raises:
        ValueError: if either result has no `loss`.
    """
    for what, result in (("best_eval_result", best_eval_result), ("current_eval_result", current_eval_result)):
        if not result or "loss" not in result:
            raise ValueError(f"{what} has no 'loss' to compare: {result!r}.")
    return float(current_eval_result["loss"]) < float(best_eval_result["loss"])


def _check_name(name: Any) -> str:
    if not is_simple_name(name):
        raise ValueError(f"Exporter name must be a simple directory name, got {name!r}.")
    return name


def _check_keep(exports_to_keep: Any) -> int | None:
    if exports_to_keep is not None and (not is_int(exports_to_keep) or exports_to_keep <= 0):
        raise ValueError(f"exports_to_keep must be a positive integer or None, got {exports_to_keep!r}.")
    return exports_to_keep


def export_dirs(export_path: str) -> list[str]:
    """Complete exports under export_path, oldest first."""
    if not os.path.isdir(export_path):
        return []
    names = sorted((n for n in os.listdir(export_path) if n.isdigit()), key=int)
    return [os.path.join(export_path, n) for n in names if is_export_dir(os.path.join(export_path, n))]


def _garbage_collect(export_path: str, exports_to_keep: int | None) -> None:
    """Keeps the newest `exports_to_keep` exports, and removes what crashed exports left."""
    remove_abandoned_temps(export_path)
    if exports_to_keep is None:
        return
    for path in export_dirs(export_path)[:-exports_to_keep]:
        logger.info("Removing old export %s.", path)
        shutil.rmtree(path, ignore_errors=True)


class _SavedModelExporter(Exporter):
    def __init__(self, name: str, serving_input_receiver_fn: Callable, assets_extra=None, as_text: bool = False):
        self._name = _check_name(name)
        if not callable(serving_input_receiver_fn):
            raise ValueError(f"Exporter {name!r}: serving_input_receiver_fn must be callable.")
        self._receiver_fn = serving_input_receiver_fn
        self._assets_extra = dict(assets_extra or {})
        self._as_text = as_text

    @property
    def name(self) -> str:
        return self._name

    def _write(self, estimator, export_path, checkpoint_path, assets_extra=None) -> bytes:
        return estimator.export_saved_model(
            export_path, self._receiver_fn, assets_extra={**self._assets_extra, **(assets_extra or {})},
            as_text=self._as_text, checkpoint_path=checkpoint_path,
        )


class FinalExporter(_SavedModelExporter):
    """Exports once, after the final evaluation.

    Args:
        name: Directory under `model_dir/export/`.
        serving_input_receiver_fn: As for `Estimator.export_saved_model`.
        assets_extra, as_text: As for `Estimator.export_saved_model`.

    Raises:
        ValueError: for an invalid name or a receiver function that is not callable.
    """

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        if not is_the_final_export:
            return None
        return self._write(estimator, export_path, checkpoint_path)


class LatestExporter(_SavedModelExporter):
    """Exports after every evaluation and keeps the newest `exports_to_keep` (None: all).

    Raises:
        ValueError: for an invalid name, receiver function or exports_to_keep.
    """

    def __init__(self, name, serving_input_receiver_fn, assets_extra=None, as_text=False, exports_to_keep=5):
        super().__init__(name, serving_input_receiver_fn, assets_extra, as_text)
        self._keep = _check_keep(exports_to_keep)

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        path = self._write(estimator, export_path, checkpoint_path)
        _garbage_collect(export_path, self._keep)
        return path


class BestExporter(_SavedModelExporter):
    """Exports only when an evaluation beats every earlier one, keeping the newest
    `exports_to_keep` of those (so the newest export is the best model).

    Each export carries its evaluation in `assets.extra/eval_result.json`, written with it
    atomically: after a restart or a crash the exporter reads its best result back from the
    exports themselves.

    Args:
        name: Directory under `model_dir/export/`.
        serving_input_receiver_fn: As for `Estimator.export_saved_model`.
        event_file_pattern: Accepted for tf.estimator compatibility and ignored.
        compare_fn: `compare_fn(best_eval_result, current_eval_result)` returns True if the
            current result is better. Default: `loss_smaller`.
        assets_extra, as_text: As for `Estimator.export_saved_model`.
        exports_to_keep: How many of the best exports to keep (None: all).

    Raises:
        ValueError: for an invalid name, receiver function, exports_to_keep, or a compare_fn
            that does not take (best_eval_result, current_eval_result).
    """

    def __init__(self, name="best_exporter", serving_input_receiver_fn=None, event_file_pattern=None,
                 compare_fn=loss_smaller, assets_extra=None, as_text=False, exports_to_keep=5):
        super().__init__(name, serving_input_receiver_fn, assets_extra, as_text)
        if event_file_pattern is not None:
            logger.info("BestExporter ignores event_file_pattern: it reads its best result from its exports.")
        if not callable(compare_fn):
            raise ValueError("BestExporter compare_fn must be callable.")
        params = list(inspect.signature(compare_fn).parameters)
        if params[:2] != ["best_eval_result", "current_eval_result"]:
            raise ValueError(
                f"BestExporter compare_fn must take (best_eval_result, current_eval_result), got {params}."
            )
        self._compare = compare_fn
        self._keep = _check_keep(exports_to_keep)

    def best_eval_result(self, export_path: str) -> dict | None:
        """The best evaluation among the exports under export_path (None if there is none)."""
        best = None
        for path in export_dirs(export_path):
            result = _read_eval_result(path)
            if result is not None and (best is None or self._compare(best_eval_result=best, current_eval_result=result)):
                best = result
        return best

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        if not eval_result:
            raise ValueError(f"BestExporter {self.name!r} needs an evaluation result to compare.")
        best = self.best_eval_result(export_path)
        current = _jsonable(eval_result)
        if best is not None and not self._compare(best_eval_result=best, current_eval_result=current):
            logger.info("Not exporting: %s is not better than the best so far %s.", current, best)
            return None
        with tempfile.TemporaryDirectory() as tmp:
            result_file = os.path.join(tmp, EVAL_RESULT_FILE)
            write_json_atomically(result_file, current, indent=None)
            path = self._write(estimator, export_path, checkpoint_path, {EVAL_RESULT_FILE: result_file})
        _garbage_collect(export_path, self._keep)
        return path


def _jsonable(result: Mapping[str, Any]) -> dict:
    out = {}
    for key, value in result.items():
        value = np.asarray(value)
        out[key] = value.item() if value.ndim == 0 else value.tolist()
    return out


def _read_eval_result(export_dir: str) -> dict | None:
    path = os.path.join(export_dir, "assets.extra", EVAL_RESULT_FILE)
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None
