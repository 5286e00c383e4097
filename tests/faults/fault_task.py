"""A process the fault suite kills: trains, exports, runs train_and_evaluate or a sweep on a
directory, printing what it reached so the suite can measure what a kill lost.

    python fault_task.py SCENARIO DIRECTORY [--kill-near-save STEP DELAY_MS] [--kill-in-export DELAY_MS]
                         [--max-steps N]

Lines printed (flushed): "START <step>" once the model is restored, "STEP <step>" after every
training step, "EXPORTED <path>" after each export, "DONE" at a normal end.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for helpers.

import tensorflow as tf  # noqa: E402

import keras_estimator as ke  # noqa: E402
from helpers import FEATURES, estimator, input_fn  # noqa: E402

from fault_plan import CHECKPOINT_EVERY  # noqa: E402
RECEIVER = ke.export.build_raw_serving_input_receiver_fn({"x": tf.TensorSpec([None, FEATURES], tf.float32)})


def say(text: str) -> None:
    print(text, flush=True)


def kill_me_in(seconds: float) -> None:
    threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGKILL)).start()


class Progress(ke.Hook):
    """Prints the step after every training step (loops of one step)."""

    def begin(self, context):
        say(f"START {context.global_step}")

    def next_step(self, global_step):
        return global_step + 1

    def after_run(self, context):
        say(f"STEP {context.global_step}")


class KillNearSave(ke.CheckpointSaverListener):
    """SIGKILLs this process `delay_ms` after the save at `step` begins: inside or just after it."""

    def __init__(self, step: int, delay_ms: float):
        self.step, self.delay = step, delay_ms / 1000.0

    def before_save(self, global_step):
        if global_step >= self.step:
            kill_me_in(self.delay)
            self.step = float("inf")


def make_estimator(model_dir: str) -> ke.Estimator:
    return estimator(model_dir, {"lr": 0.01}, save_checkpoints_steps=CHECKPOINT_EVERY, tf_random_seed=1)


def train(directory: str, args: list[str]) -> None:
    listeners = []
    if "--kill-near-save" in args:
        i = args.index("--kill-near-save")
        listeners.append(KillNearSave(int(args[i + 1]), float(args[i + 2])))
    max_steps = int(args[args.index("--max-steps") + 1]) if "--max-steps" in args else 10**9
    make_estimator(directory).train(input_fn(), max_steps=max_steps, hooks=[Progress()], saving_listeners=listeners)


class KillingExporter(ke.Exporter):
    """Wraps an exporter; SIGKILLs the process `delay` seconds into one of its exports."""

    def __init__(self, inner: ke.Exporter, delay: float | None):
        self.inner, self.delay = inner, delay

    @property
    def name(self):
        return self.inner.name

    def export(self, estimator, export_path, checkpoint_path, eval_result, is_the_final_export):
        if self.delay is not None:
            kill_me_in(self.delay)
            self.delay = None
        result = self.inner.export(estimator, export_path, checkpoint_path, eval_result, is_the_final_export)
        if result is not None:
            say(f"EXPORTED {os.fsdecode(result)}")
        return result


def export(directory: str, args: list[str]) -> None:
    """Trains a little once, then exports again and again into directory/exports."""
    model_dir = os.path.join(directory, "model")
    est = make_estimator(model_dir)
    if est.latest_checkpoint() is None:
        est.train(input_fn(), steps=CHECKPOINT_EVERY)
    delay = float(args[args.index("--kill-in-export") + 1]) / 1000.0 if "--kill-in-export" in args else None
    say("START 0")
    count = int(args[args.index("--exports") + 1]) if "--exports" in args else 10**6
    for i in range(count):
        if delay is not None and i == 1:  # The first export warmed up tracing; kill inside the second.
            kill_me_in(delay)
        path = est.export_saved_model(os.path.join(directory, "exports"), RECEIVER)
        say(f"EXPORTED {os.fsdecode(path)}")


def train_and_evaluate(directory: str, args: list[str]) -> None:
    delay = float(args[args.index("--kill-in-export") + 1]) / 1000.0 if "--kill-in-export" in args else None
    est = make_estimator(directory)
    exporters = [KillingExporter(ke.LatestExporter("latest", RECEIVER, exports_to_keep=3), delay),
                 KillingExporter(ke.BestExporter("best", RECEIVER, exports_to_keep=3), None)]
    max_steps = int(args[args.index("--max-steps") + 1]) if "--max-steps" in args else 10**9
    ke.train_and_evaluate(
        est, ke.TrainSpec(input_fn(), max_steps=max_steps, hooks=[Progress()]),
        ke.EvalSpec(input_fn(n=64, batch=32, repeat=False, seed=5), steps=None, exporters=exporters, throttle_secs=0),
    )


def sweep(directory: str, args: list[str]) -> None:
    from keras_estimator.tuning import SweepSpec, run_sweep

    spec = SweepSpec.from_dict({
        "sweep": {"name": "faults", "max_trials": 4, "steps_per_trial": 6, "eval_steps": 2},
        "data": {"lang": "en", "max_num": 10_000, "pool_size": 500, "eval_size": 64},
        "search_space": {"model": ["gru", "cnn"], "units": [4, 8], "embedding_dim": 4, "layers": 1,
                         "batch_size": 16},
    })
    say("START 0")
    run_sweep(spec, directory=directory, export=False, print_fn=None,
              on_trial_end=lambda trial: say(f"TRIAL {trial.trial_id}"))


if __name__ == "__main__":
    scenario, directory, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    {"train": train, "export": export, "train_and_evaluate": train_and_evaluate, "sweep": sweep}[scenario](directory, rest)
    say("DONE")
