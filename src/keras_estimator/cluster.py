"""The task this process plays in a training cluster, read from `TF_CONFIG` as tf.estimator did.

`TF_CONFIG` is JSON: `{"cluster": {"chief": ["host0:2222"], "worker": ["host1:2222", ...]},
"task": {"type": "worker", "index": 0}}`. The `evaluator` task is not part of the training
cluster: its `cluster_spec` is empty and it counts no replicas. The cluster may list it
(`"evaluator": ["host:port"]`, one address), as `tf.distribute.MultiWorkerMirroredStrategy`
needs when it is created on the evaluator; training tasks ignore that entry.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Mapping

from keras_estimator.validation import check_int

CHIEF, WORKER, PS, EVALUATOR = "chief", "worker", "ps", "evaluator"
TASK_TYPES = (CHIEF, WORKER, PS, EVALUATOR)


@dataclasses.dataclass(frozen=True)
class TaskInfo:
    """This process's place in the cluster.

    Attributes:
        cluster_spec: Task type -> list of "host:port" addresses of the training cluster
            (empty without TF_CONFIG, and for the evaluator).
        task_type: "chief", "worker", "ps" or "evaluator" ("worker" without TF_CONFIG).
        task_id: Index of this task among the tasks of its type.
        is_chief: Whether this task writes checkpoints, summaries and exports: the chief,
            or the only task of a process without a cluster.
        num_worker_replicas: Training tasks (chief + workers): 1 without a cluster, 0 for
            the evaluator.
        num_ps_replicas: Parameter servers listed (not used by this runtime).
        global_id_in_cluster: A unique index over the training cluster: chief first, then
            workers, then the other types in name order.
        chief_address: The chief's "host:port" (also for the evaluator, which watches it to
            know when training ended); None without a cluster.
    """

    cluster_spec: Mapping[str, tuple[str, ...]]
    task_type: str
    task_id: int
    is_chief: bool
    num_worker_replicas: int
    num_ps_replicas: int
    global_id_in_cluster: int
    chief_address: str | None = None

    @property
    def is_distributed(self) -> bool:
        """Whether TF_CONFIG names a training cluster of more than one task."""
        return sum(len(a) for a in self.cluster_spec.values()) > 1


LOCAL = TaskInfo({}, WORKER, 0, True, 1, 0, 0)


def task_info(tf_config: str | None = None) -> TaskInfo:
    """Parses TF_CONFIG (the environment variable's value when not given).

    Raises:
        ValueError: naming the problem, for TF_CONFIG that is not JSON or not an object, a
            cluster that is not a mapping of task types to address lists, a task type not in
            the cluster (other than "evaluator"), an index that is not an integer in range, a
            cluster with workers but not exactly one chief, a cluster listing more than one
            evaluator, or a task missing its type.
    """
    text = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if not text.strip():
        return LOCAL
    config = _parse(text)
    cluster = _cluster(config.get("cluster") or {})
    cluster.pop(EVALUATOR, None)  # Not part of training.
    task = config.get("task") or {}
    if not isinstance(task, dict):
        raise ValueError(f"TF_CONFIG 'task' must be an object like {{'type': 'worker', 'index': 0}}, got {task!r}.")
    if not cluster:
        return _without_cluster(task)
    task_type, index = _task_in(cluster, task)
    if len(cluster.get(CHIEF, ())) != 1:
        raise ValueError(
            f"TF_CONFIG cluster must list exactly one chief, got {list(cluster.get(CHIEF, []))}: the chief "
            "writes checkpoints, summaries and exports."
        )
    chief_address = cluster[CHIEF][0]
    if task_type == EVALUATOR:
        return TaskInfo({}, EVALUATOR, 0, False, 0, 0, 0, chief_address)
    return _training_task(cluster, task_type, index, chief_address)


def _parse(text: str) -> dict:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"TF_CONFIG is not valid JSON ({e.msg} at character {e.pos}): {text[:200]!r}") from None
    if not isinstance(config, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object with 'cluster' and 'task', got {text[:200]!r}.")
    return config


def _without_cluster(task: dict) -> TaskInfo:
    """A process on its own (a worker) or an evaluator of no cluster."""
    if task.get("type", WORKER) not in (WORKER, EVALUATOR) or task.get("index", 0) != 0:
        raise ValueError(f"TF_CONFIG has a task {task!r} but no cluster; add 'cluster'.")
    return LOCAL if task.get("type", WORKER) == WORKER else TaskInfo({}, EVALUATOR, 0, False, 0, 0, 0)


def _task_in(cluster: dict[str, tuple[str, ...]], task: dict) -> tuple[str, int]:
    """The task's (type, index), checked against the cluster."""
    if "type" not in task:
        raise ValueError("TF_CONFIG has a cluster but its 'task' has no 'type'.")
    task_type, index = task["type"], task.get("index", 0)
    if task_type not in cluster and task_type != EVALUATOR:
        raise ValueError(
            f"TF_CONFIG task type {task_type!r} is not in the cluster, whose task types are "
            f"{sorted(cluster)} (or 'evaluator')."
        )
    check_int("TF_CONFIG task index", index, 0)
    if task_type == EVALUATOR and index != 0:
        raise ValueError(f"TF_CONFIG: there is one evaluator task, index 0; got index {index}.")
    if task_type != EVALUATOR and index >= len(cluster[task_type]):
        raise ValueError(
            f"TF_CONFIG task index {index} is out of range: the cluster lists {len(cluster[task_type])} "
            f"{task_type} task(s)."
        )
    return task_type, index


def _training_task(cluster: dict[str, tuple[str, ...]], task_type: str, index: int,
                   chief_address: str) -> TaskInfo:
    order = [CHIEF, WORKER] + sorted(t for t in cluster if t not in (CHIEF, WORKER))
    global_id = sum(len(cluster[t]) for t in order[: order.index(task_type)] if t in cluster) + index
    return TaskInfo(
        cluster_spec=cluster,
        task_type=task_type,
        task_id=index,
        is_chief=task_type == CHIEF,
        num_worker_replicas=len(cluster.get(CHIEF, ())) + len(cluster.get(WORKER, ())),
        num_ps_replicas=len(cluster.get(PS, ())),
        global_id_in_cluster=global_id,
        chief_address=chief_address,
    )


def _cluster(cluster: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(cluster, dict):
        raise ValueError(f"TF_CONFIG 'cluster' must map task types to address lists, got {cluster!r}.")
    checked = {}
    for task_type, addresses in cluster.items():
        if task_type not in TASK_TYPES:
            raise ValueError(
                f"TF_CONFIG cluster has an unknown task type {task_type!r}; known: chief, worker, ps, evaluator."
            )
        if not isinstance(addresses, list) or not all(isinstance(a, str) and a for a in addresses):
            raise ValueError(f"TF_CONFIG cluster[{task_type!r}] must be a list of 'host:port' strings, got {addresses!r}.")
        if task_type == EVALUATOR and len(addresses) != 1:
            raise ValueError(f"TF_CONFIG cluster may list one evaluator, got {addresses!r}.")
        checked[task_type] = tuple(addresses)
    return checked


def local_cluster(workers: int = 1, evaluator: bool = False) -> dict[str, list[str]]:
    """A TF_CONFIG `cluster` for tasks on this machine: a chief, `workers` workers and
    optionally an evaluator, each on a free loopback port (for examples, tests, benchmarks).

    Raises:
        ValueError: for a negative number of workers.
    """
    import socket

    check_int("workers", workers, 0)
    sockets = [socket.socket() for _ in range(1 + workers + int(evaluator))]
    try:
        for s in sockets:  # All bound at once, so the ports differ.
            s.bind(("localhost", 0))
        addresses = iter(f"localhost:{s.getsockname()[1]}" for s in sockets)
        cluster = {CHIEF: [next(addresses)]}
        if workers:
            cluster[WORKER] = [next(addresses) for _ in range(workers)]
        if evaluator:
            cluster[EVALUATOR] = [next(addresses)]
        return cluster
    finally:
        for s in sockets:
            s.close()
