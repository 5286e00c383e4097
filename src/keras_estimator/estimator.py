"""`Estimator`: trains, evaluates and predicts with a `model_fn`, keeping state in model_dir.

A facade: it checks arguments and hands each call to the module that does it (`model`,
`train_loop`, `evaluation`, `prediction`, `saved_model`); see docs/architecture.md.
"""

from __future__ import annotations

import copy
import logging
import os
import tempfile
from typing import Any, Callable, Iterator

import numpy as np
import tensorflow as tf

from keras_estimator import checkpoints as ckpt_lib
from keras_estimator import datasets, evaluation, prediction, saved_model
from keras_estimator import fn_args
from keras_estimator.hook_list import HookList
from keras_estimator.hooks import CheckpointSaverListener, Hook, RunContext
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.model import Model, WarmStartSettings
from keras_estimator.model_dir import TrainingSession
from keras_estimator.peer_health import peers_of
from keras_estimator.run_config import RunConfig
from keras_estimator.saver import CheckpointSaver
from keras_estimator.spec import EstimatorSpec
from keras_estimator.steps import CompiledSteps
from keras_estimator.summaries import eval_dir
from keras_estimator.train_loop import TrainLoop
from keras_estimator.validation import check_instances, check_steps

logger = logging.getLogger("keras_estimator")

__all__ = ["Estimator", "WarmStartSettings"]


class Estimator:
    """Trains, evaluates and predicts with a model defined by `model_fn`.

    Args:
        model_fn: Builds the model for one mode and returns an `EstimatorSpec`. It may take any
            of `features`, `labels`, `mode`, `params`, `config`, passed by name; `features` is
            required. It runs inside `tf.function` and may build Keras layers, models,
            optimizers and metrics: the variables it creates are kept across calls and modes,
            named by their Keras paths, and saved in model_dir.
        model_dir: Directory for checkpoints and summaries. None: `config.model_dir`, or else a
            new temporary directory (logged as a warning).
        config: A `RunConfig`.
        params: A dict passed to model_fn and input_fn as `params` (deep-copied).
        warm_start_from: A checkpoint path or directory, or `WarmStartSettings`: the first
            `train` on an empty model_dir starts from its matching weights.

    Raises:
        ValueError: if model_fn takes unexpected arguments or lacks `features`, if params are
            given but model_fn does not take `params`, if model_dir is an existing file, or if
            model_dir and `config.model_dir` differ.
    """

    def __init__(
        self,
        model_fn: Callable[..., EstimatorSpec],
        model_dir: str | os.PathLike | None = None,
        config: RunConfig | None = None,
        params: dict | None = None,
        warm_start_from: str | os.PathLike | WarmStartSettings | None = None,
    ):
        _check_params(model_fn, params)
        config = _checked_config(config, model_dir)
        if isinstance(warm_start_from, (str, os.PathLike)):
            warm_start_from = WarmStartSettings(warm_start_from)
        self._config = config
        self._params = copy.deepcopy(params) if params is not None else {}
        self._model = Model(model_fn, config, self._params, warm_start_from)
        # Tasks of a multi-worker cluster must stop at the same step: a stop that a hook or a
        # saving listener requests on one task is agreed on by all (a sum over replicas).
        self._steps = CompiledSteps(self._model, config.jit_compile,
                                    agree_on_stop=bool(peers_of(self._model.strategy, config)))
        self._last_train_result: dict[str, Any] | None = None

    @property
    def model_dir(self) -> str:
        return self._config.model_dir

    @property
    def config(self) -> RunConfig:
        return self._config

    @property
    def params(self) -> dict:
        return copy.deepcopy(self._params)

    @property
    def model_fn(self) -> Callable[..., EstimatorSpec]:
        return self._model.model_fn

    @property
    def last_train_result(self) -> dict[str, Any] | None:
        """`{"global_step", "loss"}` where the last `train` call ended (None before one)."""
        return dict(self._last_train_result) if self._last_train_result is not None else None

    def latest_checkpoint(self) -> str | None:
        """The path prefix of the newest checkpoint in model_dir, or None."""
        return ckpt_lib.latest_checkpoint(self.model_dir)

    def get_variable_names(self) -> list[str]:
        """Names of the variables in the latest checkpoint (`global_step`, `dense/kernel`, ...).

        Raises:
            ValueError: if model_dir has no checkpoint.
        """
        return sorted(_checkpoint_variables(self.model_dir)[1])

    def get_variable_value(self, name: str) -> np.ndarray:
        """The value of variable `name` in the latest checkpoint.

        Raises:
            ValueError: if model_dir has no checkpoint or the checkpoint has no such variable.
        """
        path, names = _checkpoint_variables(self.model_dir, name)
        return tf.train.load_variable(path, names[name])

    def train(
        self,
        input_fn: Callable[..., tf.data.Dataset],
        hooks: list[Hook] | None = None,
        steps: int | None = None,
        max_steps: int | None = None,
        saving_listeners: list[CheckpointSaverListener] | None = None,
    ) -> "Estimator":
        """Trains from the latest checkpoint in model_dir (or from scratch).

        Args:
            input_fn: Returns a `tf.data.Dataset` of `(features, labels)`; may take `params`,
                `mode`, `config`, `input_context`.
            hooks: `Hook`s run between loops.
            steps: Train this many more steps (or until the data end). Excludes max_steps.
            max_steps: Train until the global step reaches this (at once if it already has).
            saving_listeners: `CheckpointSaverListener`s called around each save.

        Returns:
            self.

        Raises:
            ValueError: for both steps and max_steps, or a value that is not an integer > 0.
            InputError: for an input_fn that returns no dataset, an empty dataset, missing
                labels, or features that differ from the ones the model was trained with.
            NanLossDuringTrainingError: if the loss becomes NaN or Inf, or an update makes a
                weight NaN or Inf; the step's checkpoint is not written.
            ModelDirInUseError: if another process is training into model_dir.
            CheckpointDamagedError: if model_dir lists checkpoints and none is readable (a damaged
                latest one goes to `model_dir/damaged/`; training resumes from the previous one).
        """
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        check_steps("steps", steps)
        check_steps("max_steps", max_steps)
        hooks = HookList(hooks)
        listeners = check_instances(saving_listeners, CheckpointSaverListener, "saving_listeners")
        with TrainingSession(self.model_dir, self._config.is_chief) as session:
            start = session.start_step
            saver = CheckpointSaver(self._model, listeners, start, resumed=session.latest is not None)
            self._last_train_result = None
            if max_steps is not None and start >= max_steps:
                session.start_writing()  # Nothing to train, but a killed save's leftovers go.
                logger.info("Skipping training since max_steps has already saved.")
                self._last_train_result = {"global_step": start, "loss": None}
                return self
            dataset, distributed = datasets.distributed_datasets(
                input_fn, ModeKeys.TRAIN, self._model.strategy, self.params, self._config)
            self._model.prepare_dataset(ModeKeys.TRAIN, dataset, session.latest)
            hooks.add(self._model.spec_hooks.get(ModeKeys.TRAIN, ()))
            session.start_writing()
            loop = TrainLoop(self._model, self._steps, hooks, saver)
            context = RunContext(self, ModeKeys.TRAIN, start, start + steps if steps is not None else max_steps)
            self._last_train_result = loop.run(distributed, context)
        return self

    def evaluate(
        self,
        input_fn: Callable[..., tf.data.Dataset],
        steps: int | None = None,
        hooks: list[Hook] | None = None,
        checkpoint_path: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Evaluates the latest (or given) checkpoint on the data of `input_fn`.

        Args:
            input_fn: Returns a `tf.data.Dataset` of `(features, labels)`.
            steps: Evaluate this many batches at most (None: until the data end).
            hooks: `Hook`s run between loops.
            checkpoint_path: A checkpoint prefix or directory to evaluate instead of the latest.
            name: Results go to `model_dir/eval_<name>` instead of `model_dir/eval`.

        Returns:
            A dict of numpy scalars: `loss` (the mean of per-batch losses), `global_step`, and
            each `eval_metric_ops` result.

        Raises:
            ValueError: for steps <= 0.
            CheckpointNotFoundError: if checkpoint_path holds no checkpoint.
            InputError: as for `train`, including an empty dataset.
        """
        check_steps("steps", steps)
        results_dir = eval_dir(self.model_dir, name)
        hooks = HookList(hooks)
        path = ckpt_lib.resolve(self.model_dir, checkpoint_path)
        distributed, context = self._prepared(input_fn, ModeKeys.EVAL, path, hooks)
        return evaluation.evaluate(self._model, self._steps, distributed, steps, hooks, context, results_dir)

    def predict(
        self,
        input_fn: Callable[..., tf.data.Dataset],
        predict_keys: list[str] | None = None,
        hooks: list[Hook] | None = None,
        checkpoint_path: str | None = None,
        yield_single_examples: bool = True,
    ) -> Iterator[Any]:
        """Yields predictions for the features of `input_fn` (labels, if any, are ignored).

        Args:
            input_fn: Returns a `tf.data.Dataset` of features or of `(features, labels)`.
            predict_keys: Yield only these prediction keys.
            hooks: `Hook`s; `after_run` runs after each batch.
            checkpoint_path: A checkpoint prefix or directory to use instead of the latest.
            yield_single_examples: Yield one dict per example (True) or per batch (False).

        Returns:
            A generator of dicts of numpy values (or of numpy values when predictions is a
            single tensor). Checking, restoring and tracing happen in this call, so errors are
            raised here, before the first value.

        Raises:
            ValueError: for unknown predict_keys, or predictions whose batch sizes differ.
            CheckpointNotFoundError, InputError: as for `evaluate`.
        """
        hooks = HookList(hooks)
        path = ckpt_lib.resolve(self.model_dir, checkpoint_path)
        distributed, context = self._prepared(input_fn, ModeKeys.PREDICT, path, hooks)
        predict_fn = self._steps.predict_fn(distributed.element_spec)
        return prediction.predict(predict_fn, distributed, predict_keys, hooks, context, yield_single_examples)

    def export_saved_model(
        self,
        export_dir_base: str | os.PathLike,
        serving_input_receiver_fn: Callable[[], Any],
        assets_extra: dict[str, str] | None = None,
        as_text: bool = False,
        checkpoint_path: str | None = None,
    ) -> bytes:
        """Writes a SavedModel of model_fn in PREDICT mode for TensorFlow Serving.

        The export goes to `<export_dir_base>/<unix seconds>/`, renamed into place when
        complete. It has the `serve` tag and one signature per `EstimatorSpec.export_outputs`
        entry (default: `serving_default`, all predictions) taking the receiver's
        `receiver_tensors`, and only the variables the signatures use (no optimizer state).

        Args:
            export_dir_base: Directory under which the timestamped export is created.
            serving_input_receiver_fn: Takes no arguments and returns a
                `keras_estimator.export.ServingInputReceiver` of `tf.compat.v1.placeholder`s
                (a `tf.Module` receiver has its tables and assets saved too).
            assets_extra: Destination path inside `assets.extra/` -> source file to copy.
            as_text: Write `saved_model.pbtxt` instead of `saved_model.pb`.
            checkpoint_path: The checkpoint to export instead of the latest.

        Returns:
            The export directory, as bytes (like tf.estimator).

        Raises:
            ValueError: for no checkpoint (`model_to_estimator` then exports the Keras
                weights), an invalid receiver, export_outputs or assets_extra, or NaN/Inf weights.
            CheckpointNotFoundError, CheckpointDamagedError: for checkpoint_path, as in `evaluate`.
            InputError: if the receiver's features differ from the trained ones.
        """
        return saved_model.export_saved_model(
            self._model, export_dir_base, serving_input_receiver_fn, assets_extra, as_text, checkpoint_path
        )

    def _prepared(self, input_fn: Callable, mode: str, checkpoint: str | None, hooks: HookList) -> tuple[Any, RunContext]:
        """(dataset to iterate under eval_distribute, context); the model and hooks prepared."""
        dataset, distributed = datasets.distributed_datasets(
            input_fn, mode, self._model.eval_strategy, self.params, self._config)
        self._model.prepare_dataset(mode, dataset, checkpoint)
        hooks.add(self._model.spec_hooks.get(mode, ()))
        return distributed, RunContext(self, mode, int(self._model.global_step.numpy()))


# tf.estimator's deprecated name for it (tf.compat.v1 programs call it).
Estimator.export_savedmodel = Estimator.export_saved_model


def _checkpoint_variables(model_dir: str, name: str | None = None) -> tuple[str, dict[str, str]]:
    """(latest checkpoint, its variables' names -> checkpoint keys), which must hold `name`."""
    path = ckpt_lib.latest_checkpoint(model_dir)
    if path is None:
        raise ValueError(f"No checkpoint found in model_dir {model_dir}: train first.")
    names = ckpt_lib.variable_names(path)
    if name is not None and name not in names:
        raise ValueError(f"Checkpoint {path} has no variable {name!r}; it has {sorted(names)}.")
    return path, names


def _check_params(model_fn: Callable, params: Any) -> None:
    model_fn_args = fn_args.check_args(model_fn, "model_fn", fn_args.MODEL_FN_ARGS, required=("features",))
    if params and "params" not in model_fn_args:
        raise ValueError(
            f"model_fn ({getattr(model_fn, '__name__', model_fn)}) does not take a params "
            f"argument, but params was given: {sorted(params)}."
        )
    if params is not None and not isinstance(params, dict):
        raise ValueError(f"params must be a dict, got {type(params).__name__}.")


def _checked_config(config: RunConfig | None, model_dir: str | os.PathLike | None) -> RunConfig:
    """The config with its model_dir set: the argument, the config's, or a new temporary one
    (`RunConfig.replace` also checks model_dir can be a directory)."""
    if not tf.compat.v1.executing_eagerly_outside_functions():
        raise RuntimeError(
            "keras_estimator needs TensorFlow 2 behaviour, but the program disabled eager execution "
            "(tf.compat.v1.disable_eager_execution() or disable_v2_behavior()). Remove that call: "
            "model_fn still runs as a graph, inside tf.function."
        )
    config = config if config is not None else RunConfig()
    if not isinstance(config, RunConfig):
        raise ValueError(f"config must be a keras_estimator.RunConfig, got {type(config).__name__}.")
    if model_dir is not None:
        model_dir = os.fspath(model_dir)
        if config.model_dir is not None and os.path.abspath(config.model_dir) != os.path.abspath(model_dir):
            raise ValueError(
                f"model_dir are set both in constructor and RunConfig, but with different "
                f"values. In constructor: '{model_dir}', in RunConfig: '{config.model_dir}'."
            )
    model_dir = model_dir or config.model_dir
    if model_dir is None:
        model_dir = tempfile.mkdtemp(prefix="keras_estimator_")
        logger.warning("Using temporary folder as model directory: %s", model_dir)
    return config.replace(model_dir=model_dir)
