"""Watches the other tasks of a multi-worker cluster while this one trains.

A collective op waits for every peer: when a peer dies the survivors would wait for ever
(tf.estimator 2.15's chief did), and a task blocked in a collective op runs no Python, so no
thread can help. While `train` runs, a small watchdog process connects to each peer's server
port; when a peer refuses connections several times in a row (its process is gone), the
watchdog prints the error on this task's stderr and terminates it. Checkpoints are written
atomically, so the chief's last one stays restorable and a restarted cluster resumes from it.

Run as `python -m keras_estimator.peer_health PARENT_PID PEERS_JSON MESSAGE`; imports only the
standard library.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

from keras_estimator.files import process_alive

INTERVAL_SECS = 2.0  # Between probes.
PROBE_TIMEOUT_SECS = 2.0
FAILURES = 3  # Refusals in a row before a peer counts as dead.
KILL_AFTER_SECS = 5.0  # SIGTERM first; SIGKILL if the task is still there.


class PeerWatchdog:
    """Watches `peers` ({task name: "host:port"}) from a child process until the `with` block
    ends. Does nothing for an empty `peers` (one process, or not multi-worker).

    Args:
        peers: The other tasks of the cluster.
        message: The error printed when a task dies; "{task}" is replaced by its name.
    """

    def __init__(self, peers: dict[str, str], message: str):
        self.peers = peers
        self.message = message
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "PeerWatchdog":
        if self.peers:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "keras_estimator.peer_health", str(os.getpid()), json.dumps(self.peers),
                 self.message],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            )
        return self

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()


def peers_of(strategy, config) -> dict[str, str]:
    """{"worker:0": "host:port", ...}: the other tasks of a multi-worker strategy's cluster."""
    import tensorflow as tf  # Only in the training process, not in the watchdog.

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return {}
    me = (config.task_type, config.task_id)
    return {f"{job}:{i}": address for job in sorted(config.cluster_spec)
            for i, address in enumerate(config.cluster_spec[job]) if (job, i) != me}


def reachable(address: str) -> bool:
    """Whether a server accepts TCP connections at "host:port"."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_SECS):
            return True
    except OSError:
        return False


def watch(parent: int, peers: dict[str, str], message: str) -> None:
    failures = dict.fromkeys(peers, 0)
    while process_alive(parent):
        time.sleep(INTERVAL_SECS)
        for task, address in peers.items():
            failures[task] = 0 if reachable(address) else failures[task] + 1
            if failures[task] >= FAILURES and process_alive(parent):
                print(f"keras_estimator: error: {message.replace('{task}', task)}", file=sys.stderr, flush=True)
                os.kill(parent, signal.SIGTERM)
                deadline = time.monotonic() + KILL_AFTER_SECS
                while process_alive(parent) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if process_alive(parent):
                    os.kill(parent, signal.SIGKILL)
                return


if __name__ == "__main__":
    watch(int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3])
