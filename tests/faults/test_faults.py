"""Fault injection: processes training, exporting, running train_and_evaluate and sweeping are
SIGKILLed at seeded random moments, many times on the same directory. After every kill the
directory must hold a last good state that a new process resumes from.

`make test-faults` runs every scenario in full (at least 50 kills); `make test` a quick subset.
"""

import glob
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
import tensorflow as tf

from fault_plan import CHECKPOINT_EVERY, SEED, kills
from keras_estimator import checkpoints as ckpt_lib
from keras_estimator.exporters import EVAL_RESULT_FILE
from keras_estimator.saved_model import TEMP_PREFIX

TASK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fault_task.py")


class Run:
    """One fault_task process; its printed lines are collected as they come."""

    def __init__(self, scenario, directory, *args):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, TASK, scenario, str(directory), *map(str, args)],
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines, self.err = [], []
        self._threads = [threading.Thread(target=self._read, args=(s, o), daemon=True)
                         for s, o in ((self.process.stdout, self.lines), (self.process.stderr, self.err))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, out):
        for line in stream:
            out.append(line.rstrip("\n"))

    def finish(self, kill_after=None, timeout=240):
        """Waits for the process: SIGKILLs it after `kill_after` seconds if given."""
        try:
            self.process.wait(timeout=kill_after if kill_after is not None else timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        for t in self._threads:
            t.join(timeout=10)
        return self

    @property
    def killed(self):
        return self.process.returncode == -signal.SIGKILL

    def last(self, word):
        values = [line.split(" ", 1)[1] for line in self.lines if line.startswith(word + " ")]
        return values[-1] if values else None

    def stderr(self):
        return "\n".join(self.err[-40:])


def latest_step(model_dir):
    """The latest listed checkpoint's step, after checking every listed one is complete."""
    listed = ckpt_lib.listed(str(model_dir))
    for path in listed:
        problem = ckpt_lib.damage(path)
        assert problem is None, f"the state lists a damaged checkpoint: {path}: {problem}"
    return ckpt_lib.step_of(listed[-1]) if listed else 0


def check_exports(base, best=False):
    """No incomplete version directory; BestExporter's results keep improving. Returns the
    number of temporary directories still there (a killed export's, removed by the next)."""
    if not os.path.isdir(base):
        return 0
    versions = sorted((n for n in os.listdir(base) if n.isdigit()), key=int)
    losses = []
    for name in versions:
        path = os.path.join(base, name)
        for needed in ("saved_model.pb", "variables/variables.index"):
            assert os.path.exists(os.path.join(path, needed)), f"incomplete export {path}: no {needed}"
        assert glob.glob(os.path.join(path, "variables", "variables.data-*")), f"incomplete export {path}"
        if best:
            with open(os.path.join(path, "assets.extra", EVAL_RESULT_FILE)) as f:
                losses.append(float(json.load(f)["loss"]))
    assert losses == sorted(losses, reverse=True) and len(set(losses)) == len(losses), (
        f"BestExporter forgot its best result: losses in export order {losses}")
    if versions:
        tf.saved_model.load(os.path.join(base, versions[-1]))  # The newest one serves.
    return sum(n.startswith(TEMP_PREFIX) for n in os.listdir(base))


def kill_moment(rng, scenario, latest):
    """(extra arguments, seconds to the parent's SIGKILL or None), chosen by the seeded rng:
    during start-up and steady work (a timer in the parent), or just inside or after a
    checkpoint save or an export (a timer in the task)."""
    if scenario == "train" and rng.random() < 0.5:
        step = latest + CHECKPOINT_EVERY * rng.randint(1, 6)
        return ["--kill-near-save", step, round(rng.uniform(0, 15), 2)], None
    if scenario in ("export", "train_and_evaluate") and rng.random() < 0.5:
        # An export takes ~0.2 s once traced; inside train_and_evaluate the first one also traces.
        longest = 300 if scenario == "export" else 1500
        return ["--kill-in-export", round(rng.uniform(0, longest), 1)], None
    low, high = {"sweep": (1.0, 14.0)}.get(scenario, (0.3, 7.0))  # From start-up to steady work.
    return [], round(rng.uniform(low, high), 2)


def run_with_kills(scenario, directory, model_dir, report, export_bases=(), best_base=None):
    rng = random.Random(f"{SEED}-{scenario}")
    n = kills(scenario)
    lost, resumed, pending = [], 0, []  # pending: kills whose resumption is not seen yet.
    report.setdefault("_temps", {})[scenario] = 0  # Kills that cut an export short.
    previous = 0
    for _ in range(n):
        args, kill_after = kill_moment(rng, scenario, previous)
        run = Run(scenario, directory, *args).finish(kill_after=kill_after)
        assert run.killed, f"{scenario} {args} ended with {run.process.returncode}:\n{run.stderr()}"
        if run.last("START") is not None and model_dir is not None:
            # This process resumed from the latest checkpoint the earlier kills left.
            assert int(run.last("START")) == previous, (run.last("START"), previous)
            resumed += len(pending)
            pending = []
        pending.append(1)
        if model_dir is not None:
            step = latest_step(model_dir)
            assert step >= previous, f"the global step went backwards: {previous} -> {step}"
            reached = int(run.last("STEP") or previous)
            lost.append(max(0, reached - step))
            assert lost[-1] <= CHECKPOINT_EVERY, f"killed at step {reached}, latest checkpoint {step}"
            previous = step
        temps = sum(check_exports(base, best=base == best_base) for base in export_bases)
        report["_temps"][scenario] += temps > 0
    return lost, resumed, pending, previous


def final_run(scenario, directory, *args):
    run = Run(scenario, directory, *args).finish()
    assert run.process.returncode == 0 and "DONE" in run.lines, run.stderr()
    return run


def test_training_killed_at_random_moments_resumes_every_time(tmp_path, fault_report):
    model_dir = tmp_path / "model"
    lost, resumed, pending, latest = run_with_kills("train", model_dir, model_dir, fault_report)
    run = final_run("train", model_dir, "--max-steps", latest + 7)
    assert int(run.last("START")) == latest and int(run.last("STEP")) == latest + 7
    assert ckpt_lib.leftovers(str(model_dir)) == []  # A killed save's temporary files are gone.
    fault_report["train"] = {"kills": len(lost), "resumed": resumed + len(pending), "lost": lost,
                             "exports_clean": True}


def test_export_killed_at_random_moments_leaves_only_complete_versions(tmp_path, fault_report):
    exports = tmp_path / "exports"
    _, _, pending, _ = run_with_kills("export", tmp_path, None, fault_report, export_bases=[str(exports)])
    run = final_run("export", tmp_path, "--exports", 2)
    assert run.last("EXPORTED"), run.stderr()
    assert check_exports(str(exports)) == 0  # The killed exports' temporary directories are gone.
    fault_report["export"] = {"kills": len(pending), "resumed": len(pending), "lost": [], "exports_clean": True,
                              "note": f"{fault_report['_temps']['export']} kills cut an export short; "
                                      "its temporary directory was removed by the next export"}


def test_train_and_evaluate_with_exporters_killed_at_random_moments(tmp_path, fault_report):
    model_dir = tmp_path / "model"
    bases = [str(model_dir / "export" / "latest"), str(model_dir / "export" / "best")]
    lost, resumed, pending, latest = run_with_kills(
        "train_and_evaluate", model_dir, model_dir, fault_report, export_bases=bases, best_base=bases[1])
    run = final_run("train_and_evaluate", model_dir, "--max-steps", latest + 2 * CHECKPOINT_EVERY)
    assert int(run.last("START")) == latest
    temp_left = [check_exports(base, best=base == bases[1]) for base in bases]
    assert temp_left == [0, 0], "a killed export's temporary directory outlived the next export"
    fault_report["train_and_evaluate"] = {
        "kills": len(lost), "resumed": resumed + len(pending), "lost": lost, "exports_clean": True,
        "note": f"{fault_report['_temps']['train_and_evaluate']} kills cut an export short, cleaned up"}


@pytest.mark.skipif(kills("sweep") == 0, reason="sweep kills run in make test-faults only")
def test_sweep_killed_at_random_moments_keeps_its_finished_trials(tmp_path, fault_report):
    rng = random.Random(f"{SEED}-sweep")
    completed: dict[str, float] = {}
    for _ in range(kills("sweep")):
        run = Run("sweep", tmp_path, ).finish(kill_after=round(rng.uniform(1.0, 14.0), 2))
        if not run.killed:
            break  # Finished before the kill came.
        now = finished_trials(tmp_path)
        assert completed.items() <= now.items(), "a finished trial was lost or changed"
        completed = now
    final_run("sweep", tmp_path)
    with open(tmp_path / "leaderboard.json") as f:
        rows = {row["trial"]: row["objective"] for row in json.load(f)}
    assert len(rows) == 4 and completed.items() <= rows.items()
    fault_report["sweep"] = {"kills": kills("sweep"), "resumed": kills("sweep"), "lost": [], "exports_clean": True,
                             "note": f"{len(completed)} trials finished before the last kill, kept"}


def finished_trials(directory):
    found = {}
    for path in glob.glob(os.path.join(directory, "**", "trial.json"), recursive=True):
        try:
            with open(path) as f:
                trial = json.load(f)
        except ValueError:
            continue  # keras-tuner was writing it when killed: not finished.
        if trial.get("status") == "COMPLETED":
            found[trial["trial_id"]] = trial["score"]
    return found
