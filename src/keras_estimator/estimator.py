"""`Estimator`: trains, evaluates and predicts with a `model_fn`, keeping state in model_dir."""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import re
import shutil
import tempfile
import time
from typing import Any, Callable, Iterator

import keras
import numpy as np
import tensorflow as tf

from keras_estimator import checkpoints as ckpt_lib
from keras_estimator import context as context_lib
from keras_estimator import fn_args
from keras_estimator import inputs
from keras_estimator.errors import (
    ClusterTaskFailedError, InputError, ModelDirInUseError, NanLossDuringTrainingError,
)
from keras_estimator.model_dir_lock import ModelDirLock
from keras_estimator.peer_health import PeerWatchdog, peers_of
from keras_estimator.hooks import CheckpointSaverListener, Hook, RunContext, check_hooks
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.run_config import RunConfig
from keras_estimator.spec import EstimatorSpec
from keras_estimator.variable_store import VariableStore

logger = logging.getLogger("keras_estimator")


class WarmStartSettings:
    """Where `train` takes initial weights from when model_dir has no checkpoint yet.

    Args:
        ckpt_to_initialize_from: A checkpoint prefix, or a directory whose latest checkpoint is
            used.
        vars_to_warm_start: A regular expression; trainable variables whose names match it and
            that the checkpoint holds with the same shape are loaded.
    """

    def __init__(self, ckpt_to_initialize_from: str, vars_to_warm_start: str = ".*"):
        self.ckpt_to_initialize_from = os.fspath(ckpt_to_initialize_from)
        self.vars_to_warm_start = vars_to_warm_start


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
        warm_start_from: str | WarmStartSettings | None = None,
    ):
        self._model_fn_args = fn_args.check_args(
            model_fn, "model_fn", fn_args.MODEL_FN_ARGS, required=("features",)
        )
        if params and "params" not in self._model_fn_args:
            raise ValueError(
                f"model_fn ({getattr(model_fn, '__name__', model_fn)}) does not take a params "
                f"argument, but params was given: {sorted(params)}."
            )
        if params is not None and not isinstance(params, dict):
            raise ValueError(f"params must be a dict, got {type(params).__name__}.")
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
        if isinstance(warm_start_from, (str, os.PathLike)):
            warm_start_from = WarmStartSettings(warm_start_from)
        self._model_fn = model_fn
        self._model_dir = model_dir
        self._config = config.replace(model_dir=model_dir)  # Also checks model_dir can be a directory.
        self._params = copy.deepcopy(params) if params is not None else {}
        self._warm_start = warm_start_from
        self._exports_initial_weights = False  # model_to_estimator: initial weights are Keras's.
        if config.eval_distribute is not None and config.eval_distribute.num_replicas_in_sync > 1:
            raise NotImplementedError(
                "RunConfig eval_distribute with several replicas is not supported yet: evaluation and "
                "prediction run on one device (leave eval_distribute=None)."
            )
        # Training runs under train_distribute (variables are created in its scope, steps through
        # its run/reduce); evaluation and prediction on one device, reading the same variables.
        self._strategy = config.train_distribute or tf.distribute.get_strategy()
        with self._strategy.scope():
            self._global_step = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="global_step",
                aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
            )
        self._store = VariableStore()
        self._building = False  # True while a multi-replica build trace creates the variables.
        self._built_modes: set[str] = set()
        self._signature: dict | None = None  # Features/labels the model was trained with.
        self._pending_signature: dict | None = None  # Saved with the first checkpoint.
        self._eval_metrics: dict[str, keras.metrics.Metric] = {}
        self._train_loop = self._make_train_loop()
        # Tasks of a multi-worker cluster must stop at the same step: a stop that a hook or a
        # saving listener requests on one task is agreed on by all (a sum over replicas).
        self._agree_on_stop = self._make_stop_agreement() if peers_of(self._strategy, config) else None
        self._train_result: dict[str, Any] | None = None  # The last train call's final step and loss.
        self._eval_loop = self._make_eval_loop()
        self._predict_step = tf.function(self._predictions_of, reduce_retracing=True)

    # -- properties -------------------------------------------------------------------------
    @property
    def model_dir(self) -> str:
        return self._model_dir

    @property
    def config(self) -> RunConfig:
        return self._config

    @property
    def params(self) -> dict:
        return copy.deepcopy(self._params)

    @property
    def model_fn(self) -> Callable[..., EstimatorSpec]:
        return self._model_fn

    # -- checkpoints --------------------------------------------------------------------------
    def latest_checkpoint(self) -> str | None:
        """The path prefix of the newest checkpoint in model_dir, or None."""
        return ckpt_lib.latest_checkpoint(self._model_dir)

    def get_variable_names(self) -> list[str]:
        """Names of the variables in the latest checkpoint (`global_step`, `dense/kernel`, ...).

        Raises:
            ValueError: if model_dir has no checkpoint.
        """
        return sorted(ckpt_lib.variable_names(self._require_checkpoint()))

    def get_variable_value(self, name: str) -> np.ndarray:
        """The value of variable `name` in the latest checkpoint.

        Raises:
            ValueError: if model_dir has no checkpoint or the checkpoint has no such variable.
        """
        path = self._require_checkpoint()
        names = ckpt_lib.variable_names(path)
        if name not in names:
            raise ValueError(f"Checkpoint {path} has no variable {name!r}; it has {sorted(names)}.")
        return tf.train.load_variable(path, names[name])

    def _require_checkpoint(self) -> str:
        path = self.latest_checkpoint()
        if path is None:
            raise ValueError(f"No checkpoint found in model_dir {self._model_dir}: train first.")
        return path

    # -- train --------------------------------------------------------------------------------
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
            ValueError: for both steps and max_steps, or a value <= 0.
            InputError: for an input_fn that returns no dataset, an empty dataset, missing
                labels, or features that differ from the ones the model was trained with.
            NanLossDuringTrainingError: if the loss becomes NaN or Inf, or an update makes a
                weight NaN or Inf; the step's checkpoint is not written.
            ModelDirInUseError: if another process is training into model_dir.
            CheckpointDamagedError: if model_dir lists checkpoints and none is readable (a
                damaged latest one is moved to `model_dir/damaged/` and training resumes from
                the previous one, with a warning).
        """
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        _check_positive("steps", steps)
        _check_positive("max_steps", max_steps)
        hooks = check_hooks(hooks, Hook, "hooks")
        listeners = check_hooks(saving_listeners, CheckpointSaverListener, "saving_listeners")
        chief = self._config.is_chief  # Only the chief writes, so only it locks model_dir.
        created = chief and not os.path.isdir(self._model_dir)
        with contextlib.ExitStack() as stack:
            if chief and not created:
                stack.enter_context(ModelDirLock(self._model_dir))
            latest, damaged = ckpt_lib.usable(self._model_dir)
            start_step = ckpt_lib.step_of(latest) if latest else 0
            self._train_result = None
            if max_steps is not None and start_step >= max_steps:
                logger.info("Skipping training since max_steps has already saved.")
                self._train_result = {"global_step": start_step, "loss": None}
                return self
            dataset, distributed = self._train_datasets(input_fn)
            self._prepare(ModeKeys.TRAIN, dataset, latest)
            last_step = start_step + steps if steps is not None else max_steps
            try:
                if created:  # A new model_dir: locked once the input and model_fn checked out.
                    os.makedirs(self._model_dir, exist_ok=True)
                    stack.enter_context(ModelDirLock(self._model_dir))
                    if ckpt_lib.listed(self._model_dir):  # Another process got there first.
                        raise ModelDirInUseError(self._model_dir)
                if chief:
                    self._clean_up(damaged)
                return self._run_training(distributed or dataset, start_step, last_step, hooks, listeners)
            finally:
                if created and os.path.isdir(self._model_dir) and not os.listdir(self._model_dir):
                    os.rmdir(self._model_dir)  # A call that failed before writing leaves no trace.

    def _clean_up(self, damaged: list[str]) -> None:
        """Before training writes: moves damaged checkpoints aside (so their step numbers are
        never rewritten while listed) and removes what a killed save left behind."""
        if damaged:
            keep = [p for p in ckpt_lib.listed(self._model_dir) if p not in damaged]
            where = ckpt_lib.quarantine(self._model_dir, damaged, keep)
            logger.warning("Moved damaged checkpoint(s) %s to %s; training resumes from %s.", damaged, where, keep[-1])
        for path in ckpt_lib.leftovers(self._model_dir):
            logger.info("Removing %s, left by a save that did not complete.", path)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)

    def _train_datasets(self, input_fn):
        """(dataset, distributed dataset or None). Under a multi-replica strategy input_fn is
        called once per input pipeline (worker) with its `tf.distribute.InputContext`, as
        tf.estimator did: its batches are per-replica batches, and each step takes one batch
        per replica."""
        strategy = self._strategy
        if strategy.num_replicas_in_sync == 1:
            return self._dataset(input_fn, ModeKeys.TRAIN), None
        made = []

        def dataset_fn(input_context):
            made.append(inputs.call_input_fn(input_fn, ModeKeys.TRAIN, self.params, self._config, input_context))
            return made[-1]

        distributed = strategy.distribute_datasets_from_function(dataset_fn)
        return made[0], distributed

    def _run_training(self, dataset, start_step, last_step, hooks, listeners) -> "Estimator":
        iterator = iter(dataset)
        context = RunContext(self, ModeKeys.TRAIN, start_step)
        for hook in hooks:
            hook.begin(context)
        for listener in listeners:
            listener.begin()
        # Only the chief writes into model_dir (summaries, checkpoints, the input signature);
        # other tasks of a cluster save their checkpoints in a directory of their own, deleted
        # at the end, so that every task runs the same save code.
        summaries = _SummaryWriter(self._model_dir if self._config.is_chief else None)
        saver = _Saver(self, listeners, start_step)
        # In a multi-worker cluster, a dead peer ends this task with a clear error, not a hang.
        watchdog = PeerWatchdog(
            peers_of(self._strategy, self._config),
            "cluster task {task} stopped responding; training stopped. Restart every task: "
            f"training resumes from the chief's last checkpoint in {self._model_dir}.",
        )
        try:
            with watchdog:
                return self._training_loop(
                    iterator, context, hooks, listeners, summaries, saver, start_step, last_step
                )
        except (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.AbortedError) as e:
            if not watchdog.peers:
                raise
            # TensorFlow noticed first (a collective op lost its peer): say so plainly.
            detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ClusterTaskFailedError(int(self._global_step.numpy()), self._model_dir, detail) from e
        finally:
            summaries.close()  # Also on errors: flush the summaries already written.
            saver.close()

    def _training_loop(self, iterator, context, hooks, listeners, summaries, saver, start_step, last_step):
        config = self._config
        step, loss = start_step, None
        log_time, log_step = time.time(), start_step
        summary_time, summary_step = log_time, start_step
        self._agree_to_stop(context)  # A hook's begin may have stopped training on one task.
        while (last_step is None or step < last_step) and not context.stop_requested:
            size = self._loop_size(step, last_step, hooks)
            ran, loop_loss, bad = self._train_loop(iterator, tf.constant(size, tf.int64))
            ran = int(ran)
            step += ran
            context.steps_in_call += ran
            if bool(bad):
                raise NanLossDuringTrainingError(step=step, loss=float(loop_loss))
            if ran == 0 and context.steps_in_call == 0:
                raise InputError("input_fn for mode 'train' returned an empty dataset: no batch to train on.")
            if ran:
                loss = float(loop_loss)
                context.global_step, context.loss = step, loss
                if config.log_step_count_steps and step % config.log_step_count_steps == 0:
                    now = time.time()
                    rate = (step - log_step) / max(now - log_time, 1e-9)
                    logger.info("loss = %.6g, step = %d (%.3f sec)", loss, step, now - log_time)
                    logger.info("global_step/sec: %.4g", rate)
                    log_time, log_step = now, step
                if config.save_summary_steps and step % config.save_summary_steps == 0:
                    now = time.time()
                    summaries.scalar("loss", loss, step)
                    summaries.scalar("global_step/sec", (step - summary_step) / max(now - summary_time, 1e-9), step)
                    summary_time, summary_step = now, step
                for hook in hooks:
                    hook.after_run(context)
                if saver.due(step) and saver.save(step):
                    context.request_stop()
            if ran == size:
                self._agree_to_stop(context)
            if ran < size or context.stop_requested:
                break
        for hook in hooks:
            hook.end(context)
        saver.save(step)
        for listener in listeners:
            listener.end(step)
        if loss is not None:
            logger.info("Loss for final step: %.6g.", loss)
        self._train_result = {"global_step": step, "loss": loss}
        return self

    def _loop_size(self, step: int, last_step: int | None, hooks: list[Hook]) -> int:
        config = self._config
        targets = [step + config.steps_per_loop]
        if last_step is not None:
            targets.append(last_step)
        for every in (config.save_checkpoints_steps, config.save_summary_steps, config.log_step_count_steps):
            if every:
                targets.append((step // every + 1) * every)
        for hook in hooks:
            wanted = hook.next_step(step)
            if wanted is not None and wanted > step:
                targets.append(int(wanted))
        return min(targets) - step

    def _make_train_loop(self):
        strategy, global_step = self._strategy, self._global_step
        step_fn = self._train_step
        if self._config.jit_compile:  # The step only: iterators and the loop stay outside XLA.
            step_fn = tf.function(self._train_step, jit_compile=True)

        @tf.function(reduce_retracing=True)
        def train_loop(iterator, num_steps):
            ran = tf.constant(0, tf.int64)
            loss = tf.constant(0.0, tf.float32)
            bad = tf.constant(False)
            for _ in tf.range(num_steps):
                element = iterator.get_next_as_optional()
                if not element.has_value():
                    break
                features, labels = _split(element.get_value())
                per_replica = strategy.run(step_fn, args=(features, labels))
                loss = tf.cast(strategy.reduce("MEAN", per_replica, axis=None), tf.float32)
                if not tf.math.is_finite(loss):
                    bad = tf.constant(True)
                    break
                global_step.assign_add(1)
                ran += 1
            return ran, loss, bad

        return train_loop

    def _agree_to_stop(self, context: RunContext) -> None:
        """In a multi-worker cluster, stops every task if any task requested a stop."""
        if self._agree_on_stop is None:
            return
        if int(self._agree_on_stop(tf.constant(int(context.stop_requested)))) and not context.stop_requested:
            logger.info("Another task of the cluster stopped training at step %d.", context.global_step)
            context.request_stop()

    def _non_finite_variables(self) -> list[str]:
        """The checkpointed floating-point variables holding NaN or Inf, by name."""
        return [key for key, variable in sorted(self._store.checkpointed().items())
                if variable.dtype.is_floating and not bool(tf.reduce_all(tf.math.is_finite(variable)))]

    def _make_stop_agreement(self):
        strategy = self._strategy

        @tf.function
        def agree(wanted):
            per_replica = strategy.run(tf.identity, args=(wanted,))
            return strategy.reduce("SUM", per_replica, axis=None)

        return agree

    def _train_step(self, features, labels):
        with tf.GradientTape() as tape:
            spec = self._call_model_fn(features, labels, ModeKeys.TRAIN, tape)
        deps = [t for t in tf.nest.flatten(spec.train_op) if isinstance(t, (tf.Tensor, tf.Operation))]
        with tf.control_dependencies(deps):
            return tf.identity(spec.loss)

    # -- evaluate -----------------------------------------------------------------------------
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
        _check_positive("steps", steps)
        if name is not None and not re.fullmatch(r"[\w.-]+", str(name)):
            raise ValueError(f"Evaluation name {name!r} must be a simple directory name.")
        hooks = check_hooks(hooks, Hook, "hooks")
        path = ckpt_lib.resolve(self._model_dir, checkpoint_path)
        dataset = self._dataset(input_fn, ModeKeys.EVAL)
        self._prepare(ModeKeys.EVAL, dataset, path)
        for metric in self._eval_metrics.values():
            metric.reset_state()
        iterator = iter(dataset)
        context = RunContext(self, ModeKeys.EVAL, int(self._global_step.numpy()))
        for hook in hooks:
            hook.begin(context)
        batches, loss_sum, results = 0, 0.0, {}
        while steps is None or batches < steps:
            size = self._config.steps_per_loop if steps is None else min(self._config.steps_per_loop, steps - batches)
            ran, loop_sum, results = self._eval_loop(iterator, tf.constant(size, tf.int64))
            batches += int(ran)
            loss_sum += float(loop_sum)
            context.steps_in_call = batches
            for hook in hooks:
                hook.after_run(context)
            if int(ran) < size or context.stop_requested:
                break
        if batches == 0:
            raise InputError("input_fn for mode 'eval' returned an empty dataset: nothing to evaluate.")
        for hook in hooks:
            hook.end(context)
        output = _metric_results(results)
        output["loss"] = np.float32(loss_sum / batches)
        output["global_step"] = np.int64(self._global_step.numpy())
        writer = _SummaryWriter(os.path.join(self._model_dir, "eval" if name is None else f"eval_{name}"))
        for key, value in output.items():
            if key != "global_step" and np.ndim(value) == 0:
                writer.scalar(key, float(value), int(output["global_step"]))
        writer.close()
        logger.info(
            "Saving dict for global step %d: %s", output["global_step"],
            ", ".join(f"{k} = {v}" for k, v in sorted(output.items())),
        )
        return output

    def _make_eval_loop(self):
        strategy = tf.distribute.get_strategy()  # One device (see __init__).

        @tf.function(reduce_retracing=True)
        def eval_loop(iterator, num_steps):
            ran = tf.constant(0, tf.int64)
            loss_sum = tf.constant(0.0, tf.float64)
            for _ in tf.range(num_steps):
                element = iterator.get_next_as_optional()
                if not element.has_value():
                    break
                features, labels = _split(element.get_value())
                per_replica = strategy.run(self._eval_step, args=(features, labels))
                loss_sum += tf.cast(strategy.reduce("MEAN", per_replica, axis=None), tf.float64)
                ran += 1
            # Metrics were created while tracing the loop body; their variables outlive it.
            results = {k: m.result() for k, m in self._eval_metrics.items()}
            return ran, loss_sum, results

        return eval_loop

    def _eval_step(self, features, labels):
        spec = self._call_model_fn(features, labels, ModeKeys.EVAL)
        self._eval_metrics = dict(spec.eval_metric_ops)
        for metric in self._eval_metrics.values():
            self._store.exclude_from_checkpoints(metric.variables)
        return tf.identity(spec.loss)

    # -- predict ------------------------------------------------------------------------------
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
        hooks = check_hooks(hooks, Hook, "hooks")
        path = ckpt_lib.resolve(self._model_dir, checkpoint_path)
        dataset = self._dataset(input_fn, ModeKeys.PREDICT)
        features_spec = self._prepare(ModeKeys.PREDICT, dataset, path)
        predict_fn = self._predict_step.get_concrete_function(features_spec)
        outputs = predict_fn.structured_outputs
        if predict_keys is not None:
            if not isinstance(outputs, dict):
                raise ValueError("predict_keys given, but model_fn's predictions is a single tensor, not a dict.")
            unknown = [k for k in predict_keys if k not in outputs]
            if unknown:
                raise ValueError(
                    f"Expected to run at least one output from {sorted(outputs)}, provided "
                    f"{list(predict_keys)}: unknown key(s) {unknown}."
                )
        return self._predictions(predict_fn, dataset, predict_keys, hooks, yield_single_examples)

    def _predictions(self, predict_fn, dataset, predict_keys, hooks, yield_single_examples):
        context = RunContext(self, ModeKeys.PREDICT, int(self._global_step.numpy()))
        for hook in hooks:
            hook.begin(context)
        batches = 0
        for element in dataset:
            features = element[0] if isinstance(element, tuple) else element
            predictions = predict_fn(features)
            if isinstance(predictions, dict):
                if predict_keys is not None:
                    predictions = {k: predictions[k] for k in predict_keys}
                predictions = {k: v.numpy() for k, v in predictions.items()}
            else:
                predictions = predictions.numpy()
            batches += 1
            context.steps_in_call = batches
            if yield_single_examples:
                yield from _unbatch(predictions)
            else:
                yield predictions
            for hook in hooks:
                hook.after_run(context)
            if context.stop_requested:
                break
        if batches == 0:
            raise InputError("input_fn for mode 'infer' returned an empty dataset: nothing to predict.")
        for hook in hooks:
            hook.end(context)

    def _predictions_of(self, features):
        spec = self._call_model_fn(features, None, ModeKeys.PREDICT)
        return spec.predictions

    # -- export -------------------------------------------------------------------------------
    def export_saved_model(
        self,
        export_dir_base: str | os.PathLike,
        serving_input_receiver_fn: Callable[[], Any],
        assets_extra: dict[str, str] | None = None,
        as_text: bool = False,
        checkpoint_path: str | None = None,
    ) -> bytes:
        """Writes a SavedModel of model_fn in PREDICT mode for TensorFlow Serving.

        The export goes to `<export_dir_base>/<unix seconds>/`, written as `temp-<seconds>/` and
        renamed when complete, so a crash never leaves a partial version that Serving would
        load. It has the `serve` tag and one signature per `EstimatorSpec.export_outputs`
        entry (default: `serving_default`, a predict signature of all predictions), whose
        inputs are the receiver's `receiver_tensors`. Only the variables the signatures use are
        saved (no optimizer state).

        Args:
            export_dir_base: Directory under which the timestamped export is created.
            serving_input_receiver_fn: Takes no arguments and returns a
                `keras_estimator.export.ServingInputReceiver`; creates its inputs with
                `tf.compat.v1.placeholder`. A `tf.Module` receiver has its tables and assets
                saved with the export.
            assets_extra: Destination path inside `assets.extra/` -> source file to copy.
            as_text: Write `saved_model.pbtxt` instead of `saved_model.pb`.
            checkpoint_path: The checkpoint to export instead of the latest.

        Returns:
            The export directory, as bytes (like tf.estimator).

        Raises:
            ValueError: if model_dir has no checkpoint (except for `model_to_estimator`
                estimators, which then export the Keras model's weights), the receiver
                function or what it returns is invalid, export_outputs are invalid, assets_extra names a
                missing file, or the checkpoint holds NaN or Inf.
            CheckpointNotFoundError: if checkpoint_path holds no checkpoint.
            InputError: if the receiver's features differ from the ones the model was
                trained with.
            CheckpointDamagedError: if checkpoint_path (or every checkpoint listed) is damaged;
                a damaged latest one is skipped for the previous one, with a warning.
        """
        from keras_estimator import saved_model

        return saved_model.export_saved_model(
            self, export_dir_base, serving_input_receiver_fn, assets_extra, as_text, checkpoint_path
        )

    # -- shared machinery ---------------------------------------------------------------------
    def _dataset(self, input_fn: Callable, mode: str) -> tf.data.Dataset:
        return inputs.call_input_fn(input_fn, mode, self.params, self._config)

    def _prepare(self, mode: str, dataset: tf.data.Dataset, checkpoint: str | None):
        """Checks the input, builds the variables mode needs and restores them."""
        features_spec, labels_spec = inputs.split_element_spec(dataset.element_spec, mode)
        return self._prepare_specs(mode, features_spec, labels_spec, checkpoint)

    def _prepare_specs(self, mode: str, features_spec, labels_spec, checkpoint: str | None):
        expected = self._signature or inputs.load_signature(self._model_dir)
        if expected is not None:
            inputs.check_signature(expected, features_spec, labels_spec, mode)
            self._signature = expected
        elif mode == ModeKeys.TRAIN:
            self._pending_signature = inputs.signature_of(features_spec, labels_spec)
        with self._strategy.scope():
            self._build(mode, features_spec, labels_spec)
            with _trace_errors(mode, features_spec, labels_spec):  # A feature of another size.
                self._restore(mode, checkpoint)
        return features_spec

    def _build(self, mode: str, features_spec, labels_spec) -> None:
        if mode in self._built_modes:
            return
        if not self._built_modes and self._config.tf_random_seed is not None:
            keras.utils.set_random_seed(self._config.tf_random_seed)
        if mode == ModeKeys.TRAIN:
            step = self._train_step
        elif mode == ModeKeys.EVAL:
            step = self._eval_step
        else:
            step = lambda f, l: self._predictions_of(f)  # noqa: E731
        # Tracing (not running) the step creates the variables, outside any loop.
        strategy = self._strategy
        with _trace_errors(mode, features_spec, labels_spec):
            if strategy.num_replicas_in_sync > 1:
                # Variables are created once, in the cross-replica context of the strategy's
                # scope (mirrored); the replicas' steps then find them in the store.
                # Eagerly, on zeros shaped like one example: a mirrored variable created inside
                # a tf.function trace cannot lift its initializer out of the graph.
                self._building = True
                try:
                    step(_zeros_like_spec(features_spec), _zeros_like_spec(labels_spec))
                finally:
                    self._building = False
            else:
                tf.function(lambda f, l: strategy.run(step, args=(f, l))).get_concrete_function(
                    features_spec, labels_spec
                )
        self._store.snapshot_initial()
        self._built_modes.add(mode)

    def _restore(self, mode: str, path: str | None) -> None:
        if path is not None:
            checkpointed = self._store.checkpointed()
            ckpt_lib.restore(ckpt_lib.make(self._global_step, checkpointed), path, sorted(checkpointed))
            return
        self._store.reset_to_initial()
        self._global_step.assign(0)
        if mode == ModeKeys.TRAIN and self._warm_start is not None:
            self._apply_warm_start()
        elif mode != ModeKeys.TRAIN:
            logger.warning(
                "Could not find trained model in model_dir: %s, running initialization to %s.",
                self._model_dir, "evaluate" if mode == ModeKeys.EVAL else "predict",
            )

    def _apply_warm_start(self) -> None:
        settings = self._warm_start
        path = ckpt_lib.resolve(None, settings.ckpt_to_initialize_from)
        names = ckpt_lib.variable_names(path)
        pattern = re.compile(settings.vars_to_warm_start)
        loaded = []
        for key, variable in self._store.checkpointed().items():
            if variable.trainable and pattern.match(key) and key in names:
                value = tf.train.load_variable(path, names[key])
                if tuple(value.shape) == tuple(variable.shape):
                    variable.assign(value)
                    loaded.append(key)
        if loaded:
            logger.info("Warm-started %d variable(s) from %s: %s", len(loaded), path, loaded)
        else:
            logger.warning(
                "Warm start from %s loaded no variable: none of its names and shapes match the "
                "trainable variables model_fn built that match %r.", path, settings.vars_to_warm_start,
            )

    def _call_model_fn(self, features, labels, mode: str, tape=None) -> EstimatorSpec:
        features_arg = inputs.wrap(features)
        labels_arg = inputs.wrap(labels, inputs.LabelDict)
        with self._store.scope() as keys:
            ctx = context_lib.ModelFnContext(
                mode, self._global_step, self._store, keys, tape, self._strategy, self._building
            )
            with context_lib.enter(ctx):
                spec = fn_args.call(self._model_fn, {
                    "features": features_arg, "labels": labels_arg, "mode": mode,
                    "params": self._params, "config": self._config,
                })
        if not isinstance(spec, EstimatorSpec):
            raise ValueError(f"model_fn should return an EstimatorSpec, got {type(spec).__name__}.")
        if spec.mode != mode:
            raise ValueError(f"model_fn was called in mode {mode!r} but returned an EstimatorSpec for mode {spec.mode!r}.")
        return spec


def _zeros_like_spec(spec):
    """Zeros (empty strings) matching a TensorSpec structure, unknown dimensions set to 1."""
    if spec is None:
        return None
    return tf.nest.map_structure(lambda s: tf.zeros([d if d is not None else 1 for d in s.shape], s.dtype), spec)


def _check_positive(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0):
        raise ValueError(f"Must specify {name} > 0, given: {value}")


@contextlib.contextmanager
def _trace_errors(mode: str, features_spec, labels_spec):
    """Clear errors from tracing model_fn. AutoGraph re-raises some exceptions as StagingError:
    give back our own InputError (e.g. MissingFeatureError). Other errors get the input's keys,
    dtypes and shapes appended, since a wrong feature is their usual cause."""
    try:
        yield
    except InputError:
        raise
    except Exception as e:
        cause, seen = e, set()
        while cause is not None and id(cause) not in seen:
            if isinstance(cause, InputError):
                raise cause.with_traceback(None) from None
            seen.add(id(cause))
            cause = cause.__cause__ or cause.__context__
        if isinstance(e, (TypeError, ValueError)) and len(e.args) == 1 and isinstance(e.args[0], str):
            labels = inputs.describe(labels_spec) if labels_spec is not None else None
            e.args = (
                f"{e.args[0]}\n(keras_estimator) model_fn failed in mode {mode!r} with features "
                f"{inputs.describe(features_spec)} and labels {labels}.",
            )
        raise


def _metric_results(results: dict) -> dict:
    """Numpy values by name. A metric whose result is a dict (Keras's compiled metrics) reports
    each of its entries under its own name, as Keras's `evaluate` does."""
    output = {}
    for name, value in results.items():
        entries = value.items() if isinstance(value, dict) else [(name, value)]
        for key, entry in entries:
            if key in output or key in ("loss", "global_step"):
                raise ValueError(
                    f"Two evaluation results are named {key!r} (eval_metric_ops {name!r}); "
                    "'loss' and 'global_step' are reserved."
                )
            output[key] = _numpy(entry)
    return output


def _numpy(value):
    value = np.asarray(tf.nest.map_structure(lambda t: t.numpy(), value))
    return value[()] if value.ndim == 0 else value  # Scalars as numpy scalars, like tf.estimator.


def _split(element):
    if isinstance(element, tuple):
        return element
    return element, None


def _unbatch(predictions):
    if isinstance(predictions, dict):
        sizes = {k: (v.shape[0] if np.ndim(v) else None) for k, v in predictions.items()}
        distinct = set(sizes.values())
        if None in distinct or len(distinct) != 1:
            raise ValueError(
                "Batch length of predictions should be same and every prediction needs a batch "
                f"dimension to yield single examples; got first dimensions {sizes}. Use "
                "yield_single_examples=False."
            )
        for i in range(distinct.pop()):
            yield {k: v[i] for k, v in predictions.items()}
    else:
        if np.ndim(predictions) == 0:
            raise ValueError("predictions has no batch dimension; use yield_single_examples=False.")
        yield from predictions


class _Saver:
    """Saves checkpoints on the RunConfig cadence; never rewrites a listed checkpoint."""

    def __init__(self, estimator: Estimator, listeners: list, start_step: int):
        self._est = estimator
        self._listeners = listeners
        self._last_step = start_step if estimator.latest_checkpoint() else -1
        self._last_time = time.time()
        self._checkpoint = None
        self._directory = estimator.model_dir if estimator.config.is_chief else None

    def due(self, step: int) -> bool:
        config = self._est.config
        if config.save_checkpoints_steps:
            return step % config.save_checkpoints_steps == 0
        return time.time() - self._last_time >= config.save_checkpoints_secs

    def save(self, step: int) -> bool:
        """Saves at `step` unless already saved; returns True if a listener asked to stop."""
        if step <= self._last_step:
            return False
        est = self._est
        bad = est._non_finite_variables()
        if bad:  # The update of this step overflowed: never checkpoint it.
            raise NanLossDuringTrainingError(step=step, loss=None, variable=bad[0])
        if self._checkpoint is None:
            pending = est._pending_signature
            if est._signature is None and pending is not None and self._directory is not None:
                inputs.save_signature(est.model_dir, pending)
                est._signature = pending
            if self._directory is None:
                self._directory = tempfile.mkdtemp(prefix=f"keras_estimator_{est.config.task_type}_")
            self._checkpoint = ckpt_lib.make(est._global_step, est._store.checkpointed())
        for listener in self._listeners:
            listener.before_save(step)
        path = ckpt_lib.save(self._checkpoint, self._directory, step, est.config)
        # Other tasks of a cluster save into their own temporary directory: not worth a line.
        logger.log(logging.INFO if est.config.is_chief else logging.DEBUG, "Saving checkpoints for %d into %s.", step, path)
        self._last_step, self._last_time = step, time.time()
        stop = False
        for listener in self._listeners:
            stop = bool(listener.after_save(step, path)) or stop
        return stop

    def close(self) -> None:
        """Deletes the checkpoints of a task that is not the chief."""
        if self._directory is not None and self._directory != self._est.model_dir:
            shutil.rmtree(self._directory, ignore_errors=True)


class _SummaryWriter:
    """A TensorBoard writer created on first use, so a call that fails early writes nothing."""

    def __init__(self, logdir: str | None):
        self._logdir = logdir  # None: write nothing (a task that is not the chief).
        self._writer = None

    def scalar(self, name: str, value: float, step: int) -> None:
        if self._logdir is None:
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self._logdir)
        with self._writer.as_default():
            tf.summary.scalar(name, value, step=step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
