"""`RunConfig`: how an Estimator runs (where it writes, how often it saves, logs and loops)."""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any, Mapping

from keras_estimator import cluster as cluster_lib
from keras_estimator.validation import check_int, check_number, file_in_the_way

logger = logging.getLogger("keras_estimator")

_DEFAULT_SAVE_CHECKPOINTS_SECS = 600

# tf.estimator's TF1-only arguments: accepted so its programs run, stored so they read back,
# and ignored with one warning per argument and process. name -> (default, why it does nothing).
TF1_ONLY_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "session_config": (None, "there is no tf.compat.v1.Session: set threads and device placement "
                       "with tf.config (tf.config.threading, tf.config.set_soft_device_placement)"),
    "device_fn": (None, "ops and variables are placed by the tf.distribute strategy "
                  "(train_distribute), not by a device function"),
    "protocol": (None, "there is no tf.distribute.Server of the Estimator's own: the strategy "
                 "(train_distribute) sets up the cluster's communication"),
    "experimental_max_worker_delay_secs": (None, "workers of a multi-worker cluster train "
                                           "synchronously and start together, without a delay"),
    "session_creation_timeout_secs": (7200, "there is no session to create: a cluster task that "
                                      "does not respond is reported by the peer watchdog"),
    "checkpoint_save_graph_def": (True, "checkpoints are TensorFlow 2 object checkpoints: no "
                                  "graph.pbtxt or meta graph is written"),
}
_warned: set[str] = set()


@dataclasses.dataclass(frozen=True, init=False)
class RunConfig:
    """Immutable run configuration, with the fields and defaults of `tf.estimator.RunConfig`.

    Args:
        model_dir: Directory for checkpoints, summaries and evaluation results. If the
            Estimator is also given a model_dir, both must be the same.
        tf_random_seed: Seed applied (with `keras.utils.set_random_seed`, which is process
            wide) before the Estimator first builds its variables, so initial weights and
            dropout are reproducible.
        save_summary_steps: Write the training loss to TensorBoard every this many steps
            (0 or None: never).
        save_checkpoints_steps: Save a checkpoint every this many steps. Excludes
            `save_checkpoints_secs`.
        save_checkpoints_secs: Save a checkpoint every this many seconds. Defaults to 600 when
            neither this nor `save_checkpoints_steps` is given. A checkpoint is always saved at
            the end of `train`.
        keep_checkpoint_max: How many recent checkpoints to keep (None or 0: all).
        keep_checkpoint_every_n_hours: Additionally keep one checkpoint per this many hours.
        log_step_count_steps: Log loss and steps/sec every this many steps (0 or None: never).
        steps_per_loop: Most training or evaluation steps run inside one `tf.function` call,
            to avoid Python overhead per step. Loops always end at checkpoint, summary and log
            steps, and at steps hooks asked for, so those happen at the exact step.
        jit_compile: Compile each training step (model_fn's forward pass, gradients and
            update) with XLA. Opt-in: XLA rejects some ops (`tf.py_function`, some string
            ops) and compiles once per distinct input shape, so feed fixed or bucketed shapes
            (measured in bench/RESULTS.md).
        train_distribute: A `tf.distribute.Strategy` to train under (None: one device).
        eval_distribute: A `tf.distribute.MirroredStrategy` to evaluate and predict under
            (None: one device); with a multi-replica train_distribute, the same object
            (checked when an Estimator is made, raising `ValueError`).
        session_config, device_fn, protocol, experimental_max_worker_delay_secs,
            session_creation_timeout_secs, checkpoint_save_graph_def: tf.estimator's TF1-only
            arguments, with its defaults: accepted and stored (`config.session_config` reads
            back), with no effect; a value other than the default logs one warning per
            argument and process saying why (see `TF1_ONLY_ARGUMENTS`).

    The cluster properties (`cluster_spec`, `task_type`, `task_id`, `is_chief`,
    `num_worker_replicas`, `num_ps_replicas`, `global_id_in_cluster`) are read from the
    `TF_CONFIG` environment variable when the config is made, as tf.estimator did (see
    `keras_estimator.cluster`); a malformed TF_CONFIG raises `ValueError`.

    Raises:
        ValueError: for a model_dir that is an existing file or lies below one, for a negative
            or zero count where a positive one is needed, for both
            `save_checkpoints_steps` and `save_checkpoints_secs`, or an unknown field in
            `replace`.
    """

    model_dir: str | None
    tf_random_seed: int | None
    save_summary_steps: int | None
    save_checkpoints_steps: int | None
    save_checkpoints_secs: float | None
    keep_checkpoint_max: int | None
    keep_checkpoint_every_n_hours: float
    log_step_count_steps: int | None
    steps_per_loop: int
    jit_compile: bool
    train_distribute: Any
    eval_distribute: Any
    # TF1-only, no effect: not compared or hashed (a ConfigProto is unhashable).
    session_config: Any = dataclasses.field(compare=False)
    device_fn: Any = dataclasses.field(compare=False)
    protocol: str | None = dataclasses.field(compare=False)
    experimental_max_worker_delay_secs: int | None = dataclasses.field(compare=False)
    session_creation_timeout_secs: int = dataclasses.field(compare=False)
    checkpoint_save_graph_def: bool = dataclasses.field(compare=False)

    def __init__(
        self,
        model_dir: str | None = None,
        tf_random_seed: int | None = None,
        save_summary_steps: int | None = 100,
        save_checkpoints_steps: int | None = None,
        save_checkpoints_secs: float | None = None,
        keep_checkpoint_max: int | None = 5,
        keep_checkpoint_every_n_hours: float = 10000,
        log_step_count_steps: int | None = 100,
        steps_per_loop: int = 100,
        jit_compile: bool = False,
        train_distribute: Any = None,
        eval_distribute: Any = None,
        session_config: Any = None,
        device_fn: Any = None,
        protocol: str | None = None,
        experimental_max_worker_delay_secs: int | None = None,
        session_creation_timeout_secs: int = 7200,
        checkpoint_save_graph_def: bool = True,
    ):
        values = _checked(dict(locals()))
        for field in dataclasses.fields(self):
            object.__setattr__(self, field.name, values[field.name])
        object.__setattr__(self, "_task", cluster_lib.task_info())

    # -- the cluster, from TF_CONFIG ----------------------------------------------------------
    @property
    def cluster_spec(self) -> Mapping[str, tuple[str, ...]]:
        return self._task.cluster_spec

    @property
    def task_type(self) -> str:
        return self._task.task_type

    @property
    def task_id(self) -> int:
        return self._task.task_id

    @property
    def is_chief(self) -> bool:
        return self._task.is_chief

    @property
    def num_worker_replicas(self) -> int:
        return self._task.num_worker_replicas

    @property
    def num_ps_replicas(self) -> int:
        return self._task.num_ps_replicas

    @property
    def global_id_in_cluster(self) -> int:
        return self._task.global_id_in_cluster

    @property
    def chief_address(self) -> str | None:
        """The chief's "host:port" in TF_CONFIG's cluster (None without a cluster)."""
        return self._task.chief_address

    def replace(self, **kwargs: Any) -> "RunConfig":
        """Returns a new `RunConfig` with the given fields replaced.

        Raises:
            ValueError: for an unknown field or an invalid value.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise ValueError(f"RunConfig has no field(s) {unknown}; fields are {sorted(names)}.")
        values = {name: getattr(self, name) for name in names}
        # A default secs must not collide with an explicitly requested steps cadence.
        if kwargs.get("save_checkpoints_steps") is not None and "save_checkpoints_secs" not in kwargs:
            values["save_checkpoints_secs"] = None
        if kwargs.get("save_checkpoints_secs") is not None and "save_checkpoints_steps" not in kwargs:
            values["save_checkpoints_steps"] = None
        values.update(kwargs)
        return RunConfig(**values)


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """The constructor's arguments, checked, with model_dir a string and the default
    checkpoint cadence filled in."""
    if values["save_checkpoints_steps"] is not None and values["save_checkpoints_secs"] is not None:
        raise ValueError(
            "Can not provide both save_checkpoints_steps and save_checkpoints_secs."
        )
    if values["save_checkpoints_steps"] is None and values["save_checkpoints_secs"] is None:
        values["save_checkpoints_secs"] = _DEFAULT_SAVE_CHECKPOINTS_SECS
    if values["model_dir"] is not None:
        values["model_dir"] = str(values["model_dir"])
        _check_model_dir(values["model_dir"])
    _check_counts(values)
    if not isinstance(values["jit_compile"], bool):
        raise ValueError(f"jit_compile must be True or False, given {values['jit_compile']!r}.")
    for name in ("train_distribute", "eval_distribute"):
        strategy = values[name]
        if strategy is not None and not _is_strategy(strategy):
            raise ValueError(f"{name} must be a tf.distribute.Strategy or None, given {type(strategy).__name__}.")
    _check_tf1_only(values)
    return values


def _check_tf1_only(values: dict[str, Any]) -> None:
    """tf.estimator's checks of its TF1-only arguments, then one warning per argument that
    differs from its default (once per process: `replace` copies them)."""
    session_config = values["session_config"]
    if session_config is not None and not _is_config_proto(session_config):
        raise ValueError(
            f"session_config must be a tf.compat.v1.ConfigProto or None, given {type(session_config).__name__}."
        )
    if values["device_fn"] is not None and not callable(values["device_fn"]):
        raise ValueError(f"device_fn must be callable or None, given {type(values['device_fn']).__name__}.")
    if values["protocol"] is not None and not isinstance(values["protocol"], str):
        raise ValueError(f"protocol must be a string or None, given {values['protocol']!r}.")
    check_int("experimental_max_worker_delay_secs", values["experimental_max_worker_delay_secs"], 0,
              optional=True, word="given")
    check_int("session_creation_timeout_secs", values["session_creation_timeout_secs"], 1, word="given")
    if not isinstance(values["checkpoint_save_graph_def"], bool):
        raise ValueError(f"checkpoint_save_graph_def must be True or False, given {values['checkpoint_save_graph_def']!r}.")
    for name, (default, why) in TF1_ONLY_ARGUMENTS.items():
        if values[name] != default and name not in _warned:
            _warned.add(name)
            logger.warning("RunConfig(%s=...) is accepted for tf.estimator programs and has no effect: %s.", name, why)


def _is_config_proto(value: Any) -> bool:
    import tensorflow as tf  # Only when a session_config is given: RunConfig itself stays light.

    return isinstance(value, tf.compat.v1.ConfigProto)


def _check_counts(values: dict[str, Any]) -> None:
    def count(name: str, minimum: int, optional: bool = True) -> None:
        check_int(name, values[name], minimum, optional=optional, word="given")

    def positive(name: str) -> None:
        check_number(name, values[name], strict=True, word="given", what="a positive number")

    count("tf_random_seed", 0)
    count("save_summary_steps", 0)
    count("save_checkpoints_steps", 1)
    if values["save_checkpoints_secs"] is not None:
        positive("save_checkpoints_secs")
    count("keep_checkpoint_max", 0)
    positive("keep_checkpoint_every_n_hours")
    count("log_step_count_steps", 0)
    count("steps_per_loop", 1, optional=False)


def _check_model_dir(model_dir: str) -> None:
    """Refuses a local model_dir that can never be a directory: an existing file, or a path
    below a file (which fails even for root, when writes would otherwise be allowed). Raised
    when the config (or the Estimator) is made, not at the first save after training.
    Whether the directory is writable is not checked: evaluating and predicting may read a
    read-only model_dir."""
    if "://" in model_dir:  # gs://, hdfs://, ...: TensorFlow's file systems.
        return
    blocker = file_in_the_way(model_dir)
    if blocker == os.path.abspath(model_dir):
        raise ValueError(f"model_dir {model_dir!r} exists and is not a directory.")
    if blocker is not None:
        raise ValueError(f"model_dir {model_dir!r} cannot be created: {blocker!r} is a file, not a directory.")


def _is_strategy(value: Any) -> bool:
    import tensorflow as tf  # Only when a strategy is given: RunConfig itself stays light.

    # tf.compat.v1.distribute strategies too: what tf.distribute is in a TF1-style program.
    return isinstance(value, (tf.distribute.Strategy, tf.compat.v1.distribute.Strategy))
