"""Starts a local training cluster for the numbers model: a chief, workers and an evaluator,
one process each, on loopback ports, each running examples/cluster/task.py with its TF_CONFIG.

    python examples/cluster/run_local.py --workers 1 --model-dir runs/cluster -- --max-steps 400

Arguments after `--` go to every task (see `task.py --help`). Each task's output is printed
with its name in front; if a task fails, the others are stopped and the exit status is 1. At the
end a table shows where each task ended. On several machines, run task.py on each with the
TF_CONFIG this script prints (real host names instead of localhost).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

from keras_estimator.cluster import local_cluster

TASK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "task.py")


# TensorFlow's C++ log lines ("I0000 00:00:... port.cc:153] oneDNN ...") at start-up: noise
# here; TF_CPP_MIN_LOG_LEVEL does not silence all of them in TF 2.21.
_CPP_LOG = re.compile(r"^([IWEF]\d{4} \d\d:\d\d:|WARNING: All log messages before absl)")


def _relay(name: str, stream, lines: list[str], verbose: bool) -> None:
    for line in stream:
        lines.append(line)
        if verbose or not _CPP_LOG.match(line):
            print(f"[{name}] {line}", end="", flush=True)


def run(workers: int, evaluator: bool, model_dir: str, task_args: list[str], timeout: float,
        verbose: bool = False) -> int:
    cluster = local_cluster(workers, evaluator)  # The evaluator listed: MultiWorkerMirroredStrategy needs it.
    tasks = {}
    for task_type, addresses in cluster.items():
        for index in range(len(addresses)):
            name = f"{task_type}:{index}"
            tf_config = json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})
            print(f"{name}: TF_CONFIG='{tf_config}'", flush=True)
            env = {**os.environ, "TF_CONFIG": tf_config, "PYTHONUNBUFFERED": "1"}
            env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            process = subprocess.Popen(
                [sys.executable, TASK, "--model-dir", model_dir, *task_args], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            lines: list[str] = []
            thread = threading.Thread(target=_relay, args=(name, process.stdout, lines, verbose), daemon=True)
            thread.start()
            tasks[name] = (process, lines, thread)
    deadline = time.monotonic() + timeout
    failed = None
    try:
        while failed is None and any(p.poll() is None for p, _, _ in tasks.values()):
            failed = next((n for n, (p, _, _) in tasks.items() if p.poll() not in (None, 0)), None)
            if time.monotonic() > deadline:
                failed = "timeout"
            time.sleep(0.2)
        failed = failed or next((n for n, (p, _, _) in tasks.items() if p.returncode != 0), None)
    finally:
        for process, _, _ in tasks.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _, thread in tasks.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            thread.join(timeout=5)
    print()
    print(f"{'task':<12} {'exit':>4}  {'step':>6}  result")
    for name, (process, lines, _) in tasks.items():
        summary = _summary(lines)
        step = summary.get("global_step", "-")
        result = ", ".join(f"{k}={v:.4g}" for k, v in summary.get("result", {}).items())
        print(f"{name:<12} {process.returncode:>4}  {step:>6}  {result}")
    if failed:
        reason = f"did not finish within {timeout:.0f} s" if failed == "timeout" else f"{failed} failed"
        print(f"error: the cluster {reason}; the other tasks were stopped. Rerun to resume from the "
              f"chief's last checkpoint in {model_dir}." + ("" if verbose else " --verbose shows TensorFlow's own logs."),
              file=sys.stderr)
        return 1
    return 0


def _summary(lines: list[str]) -> dict:
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return {}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    task_args = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, help="shared by every task")
    parser.add_argument("--workers", type=int, default=1, help="workers besides the chief (default 1)")
    parser.add_argument("--no-evaluator", action="store_true", help="train only; no evaluation or export")
    parser.add_argument("--timeout", type=float, default=3600, help="stop every task after this (seconds)")
    parser.add_argument("--verbose", action="store_true", help="also show TensorFlow's C++ log lines")
    args = parser.parse_args(own)
    if args.workers < 0:
        parser.error("--workers must be >= 0")
    return run(args.workers, not args.no_evaluator, args.model_dir, task_args, args.timeout, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
