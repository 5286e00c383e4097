"""`model_to_estimator`: a compiled Keras model run, unchanged, through the Estimator path.

The bridge's model_fn rebuilds the Keras model from its config on every trace (the variable
store keeps the variables), so the Estimator owns the weights and the original model is never
touched: it keeps working in the notebook after conversion.
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from typing import Any, Mapping

import keras
import numpy as np
import tensorflow as tf

from keras_estimator import _compat
from keras_estimator import checkpoints as ckpt_lib
from keras_estimator import context as context_lib
from keras_estimator import keras_rebuild
from keras_estimator.errors import InputError
from keras_estimator.estimator import Estimator
from keras_estimator.files import write_atomically
from keras_estimator.keras_inputs import KerasInputs
from keras_estimator.mode_keys import ModeKeys
from keras_estimator.optimization import minimize
from keras_estimator.run_config import RunConfig
from keras_estimator.spec import EstimatorSpec
from keras_estimator.variable_store import VariableStore

logger = logging.getLogger("keras_estimator")

KERAS_MODEL_FILE = os.path.join("keras", "keras_model.keras")


def model_to_estimator(
    keras_model: keras.Model | None = None,
    keras_model_path: str | os.PathLike | None = None,
    model_dir: str | os.PathLike | None = None,
    config: RunConfig | None = None,
    custom_objects: Mapping[str, Any] | None = None,
) -> Estimator:
    """An `Estimator` that trains, evaluates, predicts and exports a compiled Keras model.

    The model's loss, loss weights, optimizer and metrics come from `compile`. Features are a
    dict keyed by the model's input names (a tensor is accepted for a single-input model). An
    input also answers to tf.estimator's names for it: its `keras.Input`'s own name (Keras 3
    names an unnamed one "input_layer", "input_layer_1", ...), its Keras tensor's name, and for
    a Sequential `<first layer name>_input` (tf.keras 2's name, e.g. "dense_input"); see
    `keras_estimator.keras_inputs`.
    Labels are a tensor for a single output or a dict keyed by output names. Predictions are a
    dict keyed by output names. `evaluate` returns `loss`, `global_step` and each compiled
    metric under the name Keras's own `evaluate` reports (`accuracy` for one output,
    `<output>_accuracy` and `<output>_loss` for several). An empty model_dir starts from the
    Keras model's current weights; the model itself is not changed. Load trained weights back
    into Keras with `load_keras_model(model_dir)`.

    Args:
        keras_model: A compiled functional or Sequential Keras model.
        keras_model_path: A saved `.keras` file, instead of keras_model.
        model_dir: Directory for checkpoints (see `Estimator`). The model's architecture and
            starting weights are saved under `model_dir/keras/` while model_dir has no
            checkpoint.
        config: A `RunConfig`.
        custom_objects: Custom layers, losses or metrics needed to rebuild the model from its
            config (registered serializable classes need not be listed).

    Returns:
        An `Estimator`.

    Raises:
        ValueError: if neither or both of keras_model and keras_model_path are given, if the
            model is not compiled with an optimizer and a loss, or if it cannot be rebuilt
            from its config (subclassed models).
        FileNotFoundError: if keras_model_path does not exist.
    """
    if (keras_model is None) == (keras_model_path is None):
        raise ValueError("Give exactly one of keras_model and keras_model_path.")
    if keras_model_path is not None:
        keras_model_path = os.fspath(keras_model_path)
        if not os.path.isfile(keras_model_path):
            raise FileNotFoundError(f"keras_model_path {keras_model_path!r} is not a file.")
        keras_model = _load(keras_model_path, custom_objects)
    if not isinstance(keras_model, keras.Model):
        raise ValueError(f"keras_model must be a keras.Model, got {type(keras_model).__name__}.")
    if not keras_model.compiled or keras_model.optimizer is None or keras_model.loss is None:
        raise ValueError(
            f"The Keras model {keras_model.name!r} must be compiled with an optimizer and a loss "
            "before model_to_estimator: call keras_model.compile(optimizer=..., loss=..., "
            "metrics=...)."
        )
    bridge = _KerasModelFn(keras_model, custom_objects)
    estimator = Estimator(bridge, model_dir=model_dir, config=config)
    if estimator.latest_checkpoint() is None and estimator.config.is_chief:  # Only the chief writes.
        _save_keras_model(keras_model, os.path.join(estimator.model_dir, KERAS_MODEL_FILE))
    return estimator


def load_keras_model(
    model_dir: str | os.PathLike,
    checkpoint_path: str | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    keras_model: keras.Model | None = None,
) -> keras.Model:
    """The Keras model of a `model_to_estimator` model_dir, with the weights of a checkpoint.

    Args:
        model_dir: The Estimator's model_dir.
        checkpoint_path: A checkpoint prefix or directory; default the latest in model_dir.
            With no checkpoint at all, the model has its weights from conversion time (with
            keras_model given: keras_model's weights).
        custom_objects: As for `model_to_estimator`.
        keras_model: The model given to `model_to_estimator` (or one built the same way):
            cloned instead of loading model_dir's saved `.keras` file. Needed for a model with
            Lambda layers of Python lambdas, which Keras will not load from a file in safe
            mode, and for custom layers without custom_objects.

    Returns:
        A compiled Keras model, ready for `predict`, `evaluate` or more `fit`.

    Raises:
        FileNotFoundError: if model_dir was not written by `model_to_estimator` (and no
            keras_model is given).
        CheckpointNotFoundError: if checkpoint_path holds no checkpoint.
        ValueError: if the checkpoint lacks a weight of the model or its shape differs.
    """
    model_dir = os.fspath(model_dir)
    if keras_model is None:
        path = os.path.join(model_dir, KERAS_MODEL_FILE)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path} does not exist: model_dir {model_dir!r} was not made by model_to_estimator."
            )
        saved = _load(path, custom_objects)
    else:
        saved = keras_model
    checkpoint = ckpt_lib.resolve(model_dir, checkpoint_path)
    if checkpoint is None:
        logger.warning("No checkpoint in %s: the Keras model has its weights from conversion.", model_dir)
        if keras_model is None:
            return saved
        model, _ = _rebuilt(keras_model, custom_objects)
        model.set_weights(keras_model.get_weights())
        return model
    # Rebuilt as model_fn builds it, so each variable gets the name it has in checkpoints.
    model, store = _rebuilt(saved, custom_objects)
    _assign_from_checkpoint(model, store, checkpoint)
    return model


def _assign_from_checkpoint(model: keras.Model, store: VariableStore, checkpoint: str) -> None:
    names = ckpt_lib.variable_names(checkpoint)
    keys = {id(v): store.key_of(v) for v in model.weights + list(model.optimizer.variables)}
    missing = [keys[id(w)] for w in model.weights if keys[id(w)] not in names]
    if missing:
        raise ValueError(f"Checkpoint {checkpoint} has no value for the Keras weights {missing}.")
    # Optimizer state too (when the checkpoint has it), so `fit` continues where training was.
    for variable in model.weights + [v for v in model.optimizer.variables if keys[id(v)] in names]:
        key = keys[id(variable)]
        value = tf.train.load_variable(checkpoint, names[key])
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"Checkpoint {checkpoint} holds {key!r} with shape "
                f"{tuple(value.shape)}, the Keras model has {tuple(variable.shape)}."
            )
        variable.assign(value)


def _rebuilt(model: keras.Model, custom_objects) -> tuple[keras.Model, VariableStore]:
    """A compiled clone of `model` with its optimizer built, and the store naming its weights
    as model_fn names them."""
    store = VariableStore()
    with store.scope():
        clone = keras_rebuild.clone(model, custom_objects)
        clone.compile_from_config(_portable_compile_config(model))
        clone.optimizer.build(clone.trainable_variables)
    return clone, store


def _load(path: str, custom_objects) -> keras.Model:
    with warnings.catch_warnings():  # A model saved before fit has an unbuilt optimizer.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        return keras.saving.load_model(path, custom_objects=custom_objects)


def _portable_compile_config(model: keras.Model) -> dict:
    """The compile config without the optimizer's auto-name ("adam_3" after three Adams in a
    process), so its checkpoint names ("adam/iteration") do not depend on process history."""
    config = copy.deepcopy(model.get_compile_config())
    optimizer = config.get("optimizer")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("config"), dict):
        optimizer["config"].pop("name", None)
    return config


def _save_keras_model(model: keras.Model, path: str) -> None:
    """Atomic: a temporary file renamed over the target."""
    write_atomically(path, model.save, suffix=".keras")


class _KerasModelFn:
    """The model_fn of a converted Keras model (a callable object, named for error messages)."""

    # Its initial weights are the Keras model's, so exporting before training is meaningful.
    exports_initial_weights = True

    def __init__(self, keras_model: keras.Model, custom_objects):
        self.__name__ = f"model_to_estimator({keras_model.name})"
        self._model = keras_model  # Its architecture: cloned, never called or changed.
        self._compile_config = _portable_compile_config(keras_model)
        self._custom_objects = dict(custom_objects or {})
        try:
            probe = keras_rebuild.clone(keras_model, custom_objects)
        except Exception as e:
            raise ValueError(
                f"model_to_estimator cannot rebuild {keras_model.name!r} from its layers ({e}). "
                "Use a functional or Sequential model, or give the classes its config names "
                "in custom_objects."
            ) from e
        probe_weights, weights = probe.weights, keras_model.weights
        shapes = [tuple(w.shape) for w in weights]
        if [tuple(w.shape) for w in probe_weights] != shapes:
            raise ValueError(
                f"model_to_estimator: {keras_model.name!r} rebuilt from its config has other "
                "weights than the model itself; use a functional or Sequential model."
            )
        # Matched by position: paths can repeat (Bidirectional builds throwaway copies).
        self._initial_weights = [np.array(w.numpy()) for w in weights]
        self._inputs = KerasInputs(keras_model)  # Names (and aliases), dtypes, ranks, structure.
        self._output_names = _output_names(keras_model)
        del probe

    def __call__(self, features, labels, mode):
        model = keras_rebuild.clone(self._model, self._custom_objects)
        model.compile_from_config(copy.deepcopy(self._compile_config))
        x = self._inputs.model_inputs(features)
        training = mode == ModeKeys.TRAIN
        y_pred = model(x, training=training)
        store = context_lib.current().store
        for weight, value in zip(model.weights, self._initial_weights):
            store.initialize(weight, value)  # Only where the variable is new.
        predictions = self._named(y_pred)
        if mode == ModeKeys.PREDICT:
            return EstimatorSpec(mode, predictions=predictions)
        y = self._model_labels(labels, y_pred)
        # Keras scales compute_loss by 1/replicas under a tf.distribute strategy; model_fn's
        # contract is the replica's mean loss (minimize does the scaling), so undo Keras's.
        loss = _compat.unscale_loss_for_distribution(model.compute_loss(x=x, y=y, y_pred=y_pred, training=training))
        if mode == ModeKeys.TRAIN:
            train_op = minimize(loss, model.optimizer, var_list=model.trainable_variables)
            return EstimatorSpec(mode, loss=loss, train_op=train_op)
        model.compute_metrics(x, y, y_pred, sample_weight=None)
        # Keras's "loss" tracker is never updated here: the Estimator reports the loss itself.
        metrics = {m.name: m for m in model.metrics if m.name != "loss"}
        return EstimatorSpec(mode, loss=loss, eval_metric_ops=metrics)

    # -- features and labels ----------------------------------------------------------------
    def _model_labels(self, labels, y_pred):
        names = self._output_names
        if not isinstance(labels, Mapping):
            if len(names) != 1:
                raise InputError(
                    f"The Keras model has outputs {names}: labels must be a dict keyed by them, "
                    f"got a single {type(labels).__name__}."
                )
            labels = {names[0]: labels}
        missing = [n for n in names if n not in labels]
        unknown = sorted(set(labels) - set(names))
        if missing or unknown:
            raise InputError(
                f"labels must be keyed by the Keras model's outputs {names}: missing "
                f"{missing}, unknown {unknown}."
            )
        if isinstance(y_pred, Mapping):
            return {n: labels[n] for n in y_pred}
        if isinstance(y_pred, (list, tuple)):
            return [labels[n] for n in names]
        return labels[names[0]]

    def _named(self, y_pred) -> dict:
        if isinstance(y_pred, Mapping):
            return dict(y_pred)
        if isinstance(y_pred, (list, tuple)):
            return dict(zip(self._output_names, y_pred))
        return {self._output_names[0]: y_pred}


def _output_names(model: keras.Model) -> list[str]:
    return list(_compat.functional_of(model).output_names)
