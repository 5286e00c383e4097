"""Checkpoints in model_dir: standard TF checkpoints and `checkpoint` state file, written by
`tf.train.CheckpointManager` (which writes the state file atomically after the data, so a
crash mid-save leaves the previous checkpoint listed and readable)."""

from __future__ import annotations

import os
import re

import tensorflow as tf

from keras_estimator.errors import CheckpointNotFoundError

CHECKPOINT_NAME = "model.ckpt"
_VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


def latest_checkpoint(model_dir: str) -> str | None:
    if not model_dir or not os.path.isdir(model_dir):
        return None
    return tf.train.latest_checkpoint(model_dir)


def step_of(path: str) -> int:
    """The global step a checkpoint was saved at, read from the checkpoint itself.

    Raises:
        ValueError: if the checkpoint was not written by keras-estimator (for example a
            name-based tf.estimator checkpoint), naming it.
    """
    try:
        return int(tf.train.load_variable(path, "global_step" + _VALUE_SUFFIX))
    except tf.errors.NotFoundError as e:
        raise ValueError(
            f"Checkpoint {path} has no keras-estimator global_step: it was not written by "
            "keras-estimator (tf.estimator's name-based checkpoints cannot be resumed). Train "
            "into a new model_dir."
        ) from e


def resolve(model_dir: str, checkpoint_path: str | None) -> str | None:
    """The checkpoint to use: `checkpoint_path` (a checkpoint prefix or a directory holding
    checkpoints) or the latest in model_dir (None when there is none).

    Raises:
        CheckpointNotFoundError: if checkpoint_path is given but holds no readable checkpoint.
    """
    if checkpoint_path is None:
        return latest_checkpoint(model_dir)
    path = os.fspath(checkpoint_path)
    if os.path.isdir(path):
        found = tf.train.latest_checkpoint(path)
        if found is None:
            raise CheckpointNotFoundError(f"Could not find a trained model in directory {path}.")
        return found
    if not tf.io.gfile.exists(path + ".index"):
        raise CheckpointNotFoundError(
            f"Could not find trained model at {path}: no file {path}.index."
        )
    return path


def make(global_step: tf.Variable, variables: dict[str, tf.Variable]) -> tf.train.Checkpoint:
    return tf.train.Checkpoint(global_step=global_step, variables=dict(variables))


def make_manager(checkpoint: tf.train.Checkpoint, model_dir: str, config) -> tf.train.CheckpointManager:
    return tf.train.CheckpointManager(
        checkpoint,
        directory=model_dir,
        max_to_keep=config.keep_checkpoint_max or None,
        keep_checkpoint_every_n_hours=config.keep_checkpoint_every_n_hours,
        checkpoint_name=CHECKPOINT_NAME,
    )


def _unescape(local_name: str) -> str:
    # Inverse of the object-graph escaping: "." -> "..", "/" -> ".S".
    return re.sub(r"\.(.)", lambda m: "/" if m.group(1) == "S" else m.group(1), local_name)


def variable_names(path: str) -> dict[str, str]:
    """Maps user-facing names (`global_step`, `dense/kernel`) to the checkpoint's keys."""
    names = {}
    for key, _ in tf.train.list_variables(path):
        if not key.endswith(_VALUE_SUFFIX):
            continue
        parts = key[: -len(_VALUE_SUFFIX)].split("/")
        if parts == ["global_step"]:
            names["global_step"] = key
        elif parts[0] == "variables" and len(parts) == 2:
            names[_unescape(parts[1])] = key
    return names


def restore(checkpoint: tf.train.Checkpoint, path: str, required: list[str]) -> None:
    """Restores `checkpoint` from `path`.

    Raises:
        ValueError: naming the variables model_fn built that the checkpoint does not hold, or a
            shape that differs, i.e. model_fn is not the model that wrote the checkpoint.
    """
    present = variable_names(path)
    missing = [name for name in required if name not in present]
    if missing:
        raise ValueError(
            f"Checkpoint {path} has no value for variable(s) {missing[:10]}"
            f"{' ...' if len(missing) > 10 else ''}: model_fn built a different model from the one "
            "that wrote it. Use a new model_dir, or warm_start_from to reuse matching weights."
        )
    try:
        checkpoint.read(path).expect_partial()
    except (ValueError, tf.errors.InvalidArgumentError) as e:
        raise ValueError(f"Could not restore checkpoint {path} into the model model_fn built: {e}") from e
