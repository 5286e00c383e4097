"""What each `keras-estimator` subcommand does, on the numbers application.

A model_dir written by `train` holds `params.json` (the numbers params it was trained with, in
the form `--hparams` reads) and either the Estimator's checkpoints (`--path estimator`, with the
converted Keras model under `keras/`) or, for `--path fit`, the Keras model in `fit/model.keras`.
`evaluate`, `predict` and `export` read both. What they print is in `output`; the demo
command is `demo`.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
from typing import Any, Callable, Mapping

import keras
import numpy as np

from keras_estimator import checkpoints as ckpt_lib
from keras_estimator.files import read_json, write_atomically, write_json_atomically
from keras_estimator.keras_bridge import KERAS_MODEL_FILE, model_to_estimator
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.numbers import data as numbers_data
from keras_estimator.numbers.models import ARCHITECTURES, MODEL_DEFAULTS, build_model
from keras_estimator.numbers.serving import serving_input_receiver_fn, words_input_fn
from keras_estimator.numbers.vocabulary import number_words
from keras_estimator.run_config import RunConfig
from keras_estimator.cli.progress import Progress, ProgressCallback, ProgressHook

PARAMS_FILE = "params.json"
FIT_MODEL_FILE = os.path.join("fit", "model.keras")
PARAM_KEYS = tuple(dict.fromkeys([*numbers_data.DEFAULTS, *MODEL_DEFAULTS]))
# Params saved with the model (architecture, optimizer): a model_dir keeps them for life.
FIXED_KEYS = ("lang", "max_num", "targets", *MODEL_DEFAULTS)


class CliError(Exception):
    """A user mistake: printed as one line on stderr, exit status 1, no traceback."""


# -- params and model_dir state --------------------------------------------------------------

def read_hparams(path: str) -> dict[str, Any]:
    """The params in a JSON file (e.g. a sweep's best_params.json).

    Raises:
        CliError: if it cannot be read, is not a JSON object, or has an unknown key.
    """
    missing = object()
    try:
        value = read_json(path, default=missing)
    except OSError as e:
        raise CliError(f"cannot read hparams file {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise CliError(f"hparams file {path} is not valid JSON: {e}") from None
    if value is missing:
        raise CliError(f"cannot read hparams file {path}: {os.strerror(errno.ENOENT)}")
    if not isinstance(value, dict):
        raise CliError(f"hparams file {path} must hold a JSON object of params, got {type(value).__name__}")
    unknown = sorted(k for k in value if k not in PARAM_KEYS)
    if unknown:
        raise CliError(f"hparams file {path}: unknown param(s) {', '.join(unknown)}; known: {', '.join(PARAM_KEYS)}")
    return value


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params completed with the data and model defaults, or a CliError naming the problem."""
    params = dict(params)
    lang = params.get("lang", numbers_data.DEFAULTS["lang"])
    try:
        number_words(1, lang)
    except ValueError:
        raise CliError(f"unknown language {lang!r}: give a num2words language code such as en, de, fr") from None
    try:
        resolved = numbers_data.resolve_params(params)
    except ValueError as e:
        raise CliError(str(e).rstrip(".")) from None
    model = {**MODEL_DEFAULTS, **{k: v for k, v in params.items() if k in MODEL_DEFAULTS}}
    if model["model"] not in ARCHITECTURES:
        raise CliError(f"unknown model {model['model']!r}; choose from {', '.join(ARCHITECTURES)}")
    resolved.update(model)  # build_model checks the sizes when train builds the model.
    resolved["targets"] = list(resolved["targets"])
    return resolved


def stored_params(model_dir: str) -> dict[str, Any] | None:
    path = os.path.join(model_dir, PARAMS_FILE)
    if not os.path.exists(path):
        return None
    return read_hparams(path)


def merge_params(model_dir: str, hparams: Mapping[str, Any], flags: Mapping[str, Any]) -> dict[str, Any]:
    """The params of a training run: what model_dir was trained with, then the hparams file,
    then explicit flags. Params that shape the variables cannot change in a model_dir."""
    stored = stored_params(model_dir)
    params = check_params({**(stored or {}), **hparams, **flags})
    if stored is not None:
        before = check_params(stored)
        changed = [k for k in FIXED_KEYS if before.get(k) != params.get(k)]
        if changed:
            detail = ", ".join(f"{k}={before.get(k)!r} (asked {params.get(k)!r})" for k in changed)
            raise CliError(f"{model_dir} holds a model trained with {detail}; use a new --model-dir")
    return params


def write_params(model_dir: str, params: Mapping[str, Any]) -> None:
    write_json_atomically(os.path.join(model_dir, PARAMS_FILE), _jsonable(params))


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


class TrainedModel:
    """A model_dir written by `train`, through either path.

    Raises:
        CliError: if model_dir does not exist, was not written by `train`, or has no trained
            model yet.
    """

    def __init__(self, model_dir: str):
        if not os.path.isdir(model_dir):
            raise CliError(f"model_dir {model_dir} does not exist")
        params = stored_params(model_dir)
        if params is None:
            raise CliError(f"{model_dir} has no {PARAMS_FILE}: it was not written by keras-estimator train")
        self.model_dir = model_dir
        self.params = check_params(params)
        self.fit_file = os.path.join(model_dir, FIT_MODEL_FILE)
        self.path = "fit" if os.path.exists(self.fit_file) else "estimator"
        if self.path == "estimator" and ckpt_lib.latest_checkpoint(model_dir) is None:
            raise CliError(f"{model_dir} has no checkpoint yet: train first (keras-estimator train --model-dir {model_dir})")
        self._model = None

    @property
    def global_step(self) -> int:
        if self.path == "fit":
            return int(self.keras_model().optimizer.iterations.numpy())
        return ckpt_lib.step_of(ckpt_lib.latest_checkpoint(self.model_dir))

    def keras_model(self) -> keras.Model:
        if self._model is None:
            self._model = keras.saving.load_model(self.fit_file)
        return self._model

    def estimator(self):
        """The Estimator over model_dir (fit path: a temporary one holding the Keras weights)."""
        if self.path == "fit":
            return model_to_estimator(self.keras_model(), model_dir=tempfile.mkdtemp(prefix="keras_estimator_fit_"))
        return model_to_estimator(keras_model_path=os.path.join(self.model_dir, KERAS_MODEL_FILE), model_dir=self.model_dir)

    def evaluate(self, steps: int | None = None) -> dict[str, float]:
        if self.path == "fit":
            data = numbers_data.input_fn(self.params, ModeKeys.EVAL)
            results = self.keras_model().evaluate(data.take(steps) if steps else data, verbose=0, return_dict=True)
            results["global_step"] = self.global_step
        else:
            results = self.estimator().evaluate(lambda: numbers_data.input_fn(self.params, ModeKeys.EVAL), steps=steps)
        return {k: float(v) for k, v in results.items()}

    def predict(self, words: list[str]) -> list[dict[str, np.ndarray]]:
        if self.path == "fit":
            out = self.keras_model().predict(words_input_fn(words, self.params), verbose=0)
            out = out if isinstance(out, dict) else {self.params["targets"][0]: out}
            return [{k: v[i] for k, v in out.items()} for i in range(len(words))]
        return list(self.estimator().predict(lambda: words_input_fn(words, self.params)))

    def export(self, export_dir_base: str) -> str:
        estimator = self.estimator()
        runtime_logger = logging.getLogger("keras_estimator")
        level = runtime_logger.level
        if self.path == "fit":  # Its "no checkpoint, using the initial weights" is expected here.
            runtime_logger.setLevel(logging.ERROR)
        try:
            path = estimator.export_saved_model(export_dir_base, serving_input_receiver_fn(self.params))
        finally:
            runtime_logger.setLevel(level)
            if self.path == "fit":
                shutil.rmtree(estimator.model_dir, ignore_errors=True)
        return path.decode() if isinstance(path, bytes) else path


# -- train ---------------------------------------------------------------------------------

def train(
    model_dir: str,
    params: Mapping[str, Any],
    steps: int | None = None,
    max_steps: int | None = None,
    path: str = "estimator",
    save_checkpoints_steps: int | None = None,
    eval_steps: int | None = None,
    print_fn: Callable[[str], None] = print,
) -> dict[str, float]:
    """Trains (or resumes) a numbers model in model_dir and evaluates it; returns the metrics."""
    other = "fit" if path == "estimator" else "estimator"
    if os.path.isdir(model_dir) and _holds(model_dir, other):
        raise CliError(f"{model_dir} holds a model trained with --path {other}; use a new --model-dir")
    keras.utils.set_random_seed(params["seed"])
    try:
        model = build_model(params)  # Also checks the model params before anything is written.
    except ValueError as e:
        raise CliError(str(e).rstrip(".")) from None
    if path == "fit":
        start = _train_fit(model_dir, params, model, steps, max_steps)
    else:
        start = _train_estimator(model_dir, params, model, steps, max_steps, save_checkpoints_steps)
    trained = TrainedModel(model_dir)
    if trained.global_step == start:
        print_fn(f"Nothing to train: {model_dir} is at step {start} (--max-steps {max_steps}).")
    return trained.evaluate(eval_steps)


def _holds(model_dir: str, path: str) -> bool:
    if path == "fit":
        return os.path.exists(os.path.join(model_dir, FIT_MODEL_FILE))
    return ckpt_lib.latest_checkpoint(model_dir) is not None


def _last_step(start: int, steps: int | None, max_steps: int | None) -> int:
    return start + steps if steps is not None else max(start, max_steps)


def _train_estimator(model_dir, params, model, steps, max_steps, save_checkpoints_steps) -> int:
    latest = ckpt_lib.latest_checkpoint(model_dir) if os.path.isdir(model_dir) else None
    start = ckpt_lib.step_of(latest) if latest else 0
    last = _last_step(start, steps, max_steps)
    config = RunConfig(
        tf_random_seed=params["seed"], save_checkpoints_steps=save_checkpoints_steps,
        log_step_count_steps=None,  # The progress hook reports instead.
        save_summary_steps=min(100, max(1, (last - start) // 10)),  # Short runs get a curve too.
    )
    keras_file = os.path.join(model_dir, KERAS_MODEL_FILE)
    if latest is not None and os.path.exists(keras_file):
        estimator = model_to_estimator(keras_model_path=keras_file, model_dir=model_dir, config=config)
    else:
        estimator = model_to_estimator(model, model_dir=model_dir, config=config)
    write_params(model_dir, params)
    if last > start:
        hook = ProgressHook(lambda step: Progress(step, last))
        estimator.train(lambda: numbers_data.input_fn(params, ModeKeys.TRAIN), max_steps=last, hooks=[hook])
    return start


def _train_fit(model_dir, params, model, steps, max_steps) -> int:
    fit_file = os.path.join(model_dir, FIT_MODEL_FILE)
    if os.path.exists(fit_file):
        model = keras.saving.load_model(fit_file)
    write_params(model_dir, params)
    start = int(model.optimizer.iterations.numpy())
    last = _last_step(start, steps, max_steps)
    if last > start:
        logs = os.path.join(model_dir, "fit", "logs")
        model.fit(
            numbers_data.input_fn(params, ModeKeys.TRAIN), steps_per_epoch=last - start, epochs=1, verbose=0,
            shuffle=False,  # input_fn shuffles.
            callbacks=[ProgressCallback(Progress(start, last)), keras.callbacks.TensorBoard(logs, update_freq=100)],
        )
        # A crash leaves the previous model file or the new one, never half of one.
        write_atomically(fit_file, model.save, suffix=".keras")
    return start
