"""Checkpoints in model_dir: standard TF checkpoints `model.ckpt-N` and TF's `checkpoint` state
file, in the format `tf.train.CheckpointManager` writes, with its retention rules
(`keep_checkpoint_max`, `keep_checkpoint_every_n_hours`).

`save` orders the writes so that a crash at any moment leaves the state listing only complete
checkpoints: data, then the state file (written atomically), and only then the deletion of
checkpoints dropped from it. (CheckpointManager lists the new checkpoint, deletes the oldest,
then lists again, so a kill in between leaves a listed checkpoint whose files are gone.)"""

from __future__ import annotations

import logging
import os
import re
import time

import tensorflow as tf

from keras_estimator import _compat
from keras_estimator.errors import CheckpointDamagedError, CheckpointNotFoundError, first_line

logger = logging.getLogger("keras_estimator")

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


def resolve(model_dir: str | None, checkpoint_path: str | None) -> str | None:
    """The checkpoint to use: `checkpoint_path` (a checkpoint prefix or a directory holding
    checkpoints) or the latest readable one in model_dir (None when there is none).

    A directory's latest checkpoint that is damaged is skipped for the previous listed one,
    with a warning naming both (see `usable`).

    Raises:
        CheckpointNotFoundError: if checkpoint_path is given but holds no checkpoint.
        CheckpointDamagedError: if the checkpoint asked for is damaged, or every checkpoint a
            directory lists is.
    """
    if checkpoint_path is None:
        return usable(model_dir)[0]
    path = os.fspath(checkpoint_path)
    if os.path.isdir(path):
        found = usable(path)[0]
        if found is None:
            raise CheckpointNotFoundError(f"Could not find a trained model in directory {path}.")
        return found
    if not tf.io.gfile.exists(path + ".index") and not data_files(path):
        raise CheckpointNotFoundError(
            f"Could not find trained model at {path}: no file {path}.index."
        )
    problem = damage(path)
    if problem is not None:
        raise CheckpointDamagedError(path, problem)
    return path


def usable(model_dir: str | None) -> tuple[str | None, list[str]]:
    """(The newest listed checkpoint that reads back, the newer listed ones that do not).

    A damaged latest checkpoint (truncated, corrupted or missing files) is never silently
    replaced by a fresh model: the previous listed one is used, with a warning naming the
    damaged one, and if no listed checkpoint is readable the error names the latest.

    Raises:
        CheckpointDamagedError: if the directory lists checkpoints and none is readable.
    """
    paths = listed(model_dir) if model_dir else []
    damaged: list[tuple[str, str]] = []
    for path in reversed(paths):
        problem = damage(path)
        if problem is None:
            for bad, why in damaged:
                logger.warning("Checkpoint %s is damaged: %s. Using the previous good checkpoint %s.", bad, why, path)
            return path, [bad for bad, _ in damaged]
        damaged.append((path, problem))
    if damaged:
        raise CheckpointDamagedError(
            damaged[0][0], damaged[0][1],
            f"No earlier checkpoint listed in {model_dir} is readable either "
            f"({len(damaged)} checked): restore model_dir from a backup, or move its checkpoints away "
            "to start over.",
        )
    return None, []


def make(global_step: tf.Variable, variables: dict[str, tf.Variable]) -> tf.train.Checkpoint:
    return tf.train.Checkpoint(global_step=global_step, variables=dict(variables))


def save(checkpoint: tf.train.Checkpoint, model_dir: str, step: int, config) -> str:
    """Writes `model_dir/model.ckpt-<step>`, lists it in the state file and applies retention
    (the newest `config.keep_checkpoint_max` stay listed; a dropped one is kept unlisted if
    `keep_checkpoint_every_n_hours` passed since the last one kept so). Returns its prefix."""
    path = checkpoint.write(os.path.join(model_dir, f"{CHECKPOINT_NAME}-{step}"))
    now = time.time()
    state = tf.train.get_checkpoint_state(model_dir)
    entries: list[tuple[str, float]] = []
    last_preserved = now
    if state is not None and state.model_checkpoint_path:
        stamps = list(state.all_model_checkpoint_timestamps)
        paths = list(state.all_model_checkpoint_paths)
        if len(stamps) != len(paths):
            stamps = [now] * len(paths)
        entries = [(os.path.basename(p), t) for p, t in zip(paths, stamps)]
        last_preserved = state.last_preserved_timestamp or now
    name = os.path.basename(path)
    entries = [e for e in entries if e[0] != name] + [(name, now)]
    dropped = []
    keep, hours = config.keep_checkpoint_max, config.keep_checkpoint_every_n_hours
    while keep and len(entries) > keep:
        oldest, stamp = entries.pop(0)
        if hours and stamp - hours * 3600.0 >= last_preserved:
            last_preserved = stamp  # Kept on disk, no longer listed (as CheckpointManager does).
            continue
        dropped.append(os.path.join(model_dir, oldest))
    _write_state(model_dir, [e[0] for e in entries], [e[1] for e in entries], last_preserved)
    for old in dropped:  # Unlisted first, deleted second: a kill here leaves unlisted files only.
        for file in [old + ".index", *data_files(old)]:
            if tf.io.gfile.exists(file):
                tf.io.gfile.remove(file)
    return path


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


def listed(model_dir: str) -> list[str]:
    """The checkpoints the `checkpoint` state file lists, oldest first (the latest last)."""
    if not model_dir or not os.path.isdir(model_dir):
        return []
    state = tf.train.get_checkpoint_state(model_dir)
    if state is None or not state.model_checkpoint_path:
        return []
    paths = [p for p in state.all_model_checkpoint_paths if p != state.model_checkpoint_path]
    return paths + [state.model_checkpoint_path]


def data_files(path: str) -> list[str]:
    return sorted(tf.io.gfile.glob(path + ".data-*"))


def damage(path: str) -> str | None:
    """What is wrong with the checkpoint at `path` (naming the file), or None if every tensor in
    it reads back (TensorFlow checks each tensor's CRC32C as it reads it)."""
    index = path + ".index"
    if not tf.io.gfile.exists(index):
        return f"its index file {index} is missing"
    # The checkpoint reader turns TensorFlow statuses into assorted Python exceptions
    # (OpError, IndexError for a short read, ...): any of them means the file is unusable.
    try:
        reader = tf.train.load_checkpoint(path)
        keys = list(reader.get_variable_to_shape_map())
    except Exception as e:  # noqa: BLE001
        return f"its index file {index} cannot be read ({first_line(e)})"
    for key in keys:
        try:
            reader.get_tensor(key)
        except Exception as e:  # noqa: BLE001
            files = ", ".join(data_files(path)) or f"{path}.data-*"
            missing = "missing" if not data_files(path) else "damaged"
            return f"its data file {files} is {missing} ({first_line(e)})"
    return None


def quarantine(model_dir: str, damaged: list[str], keep: list[str]) -> str:
    """Moves the damaged checkpoints' files to `model_dir/damaged/` and rewrites the state file
    (atomically, as TensorFlow writes it) to list only `keep`, the latest last. Returns the
    directory the files went to."""
    target = os.path.join(model_dir, "damaged")
    os.makedirs(target, exist_ok=True)
    for path in damaged:
        for name in [path + ".index", *data_files(path)]:
            if tf.io.gfile.exists(name):
                os.replace(name, os.path.join(target, os.path.basename(name)))
    state = tf.train.get_checkpoint_state(model_dir)
    stamps = dict(zip(state.all_model_checkpoint_paths, state.all_model_checkpoint_timestamps))
    _write_state(model_dir, keep, [stamps.get(p, time.time()) for p in keep], state.last_preserved_timestamp)
    return target


def _write_state(model_dir: str, paths: list[str], timestamps: list[float], last_preserved: float) -> None:
    """Writes the `checkpoint` state file listing `paths` (the latest last) exactly as
    CheckpointManager does, with the function it uses: atomically (a temporary file renamed),
    paths relative to model_dir (so the directory can be moved)."""
    directory = os.path.abspath(model_dir)
    absolute = [os.path.join(directory, os.path.basename(p)) for p in paths]
    _compat.write_checkpoint_state(directory, absolute[-1], absolute, timestamps, last_preserved)


def leftovers(model_dir: str) -> list[str]:
    """What a save killed midway leaves: `model.ckpt-N_temp/` directories, and files of a
    checkpoint newer than the latest listed one (written, but never listed)."""
    if not os.path.isdir(model_dir):
        return []
    listed_paths = listed(model_dir)
    latest_step = _number(listed_paths[-1]) if listed_paths else -1
    found = []
    for name in sorted(os.listdir(model_dir)):
        match = re.fullmatch(re.escape(CHECKPOINT_NAME) + r"-(\d+)(_temp|\.index|\.data-\d+-of-\d+)", name)
        if match and (match.group(2) == "_temp" or int(match.group(1)) > latest_step):
            found.append(os.path.join(model_dir, name))
    return found


def _number(path: str) -> int:
    match = re.search(r"-(\d+)$", path)
    return int(match.group(1)) if match else -1
