"""Runs a parsed `keras-estimator` command (imports TensorFlow; `main` imports this lazily)."""

from __future__ import annotations

import argparse
import os
import sys

from keras_estimator.cli import commands, demo as demo_command, output
from keras_estimator.cli.commands import CliError
from keras_estimator.errors import CheckpointNotFoundError, InputError, NanLossDuringTrainingError
from keras_estimator.tuning import SpecError
from keras_estimator.validation import file_in_the_way

# Mistakes a user can fix from the message alone: one line on stderr, no traceback.
USER_ERRORS = (CliError, SpecError, InputError, CheckpointNotFoundError, NanLossDuringTrainingError)

_FLAG_PARAMS = ("lang", "targets", "model", "units", "embedding_dim", "layers", "dropout", "learning_rate",
                "batch_size", "max_num", "seed")


# The directories each command writes into, by flag (checked before anything runs).
_WRITTEN_DIRS = {"train": ("model_dir",), "export": ("out",), "tune": ("directory",),
                 "demo": ("model_dir", "export_dir")}


def dispatch(args: argparse.Namespace) -> int:
    for dest in _WRITTEN_DIRS.get(args.command, ()):
        _check_directory(getattr(args, dest, None), "--" + dest.replace("_", "-"))
    return {"demo": demo, "train": train, "evaluate": evaluate, "predict": predict, "export": export,
            "tune": tune}[args.command](args)


def _check_directory(path: str | None, flag: str) -> None:
    """A directory the command will write: refused, naming the flag, when it is an existing file
    or lies below one (no Python traceback for a path typed wrong)."""
    if path is None:
        return
    path, blocker = os.path.abspath(path), file_in_the_way(path)
    if blocker == path:
        raise CliError(f"{flag} {path} exists and is not a directory")
    if blocker is not None:
        raise CliError(f"{flag} {path} lies below {blocker}, which is a file")


def train(args: argparse.Namespace) -> int:
    hparams = commands.read_hparams(args.hparams) if args.hparams else {}
    flags = {k: getattr(args, k) for k in _FLAG_PARAMS if getattr(args, k) is not None}
    params = commands.merge_params(args.model_dir, hparams, flags)
    steps = args.steps if args.steps or args.max_steps else 1000
    results = commands.train(
        args.model_dir, params, steps=steps, max_steps=args.max_steps, path=args.path,
        save_checkpoints_steps=args.save_checkpoints_steps, eval_steps=args.eval_steps,
    )
    print(output.format_metrics(results))
    print(f"model_dir: {args.model_dir}    (tensorboard --logdir {args.model_dir})")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    print(output.format_metrics(commands.TrainedModel(args.model_dir).evaluate(args.steps)))
    return 0


def predict(args: argparse.Namespace) -> int:
    trained = commands.TrainedModel(args.model_dir)
    words = list(args.words)
    if not words and not sys.stdin.isatty():
        words = [line.strip() for line in sys.stdin if line.strip()]
    if not words:
        raise CliError("no words given: pass them as arguments or one per line on stdin")
    predictions = trained.predict(words)
    print(output.prediction_table(words, predictions, trained.params["targets"]))
    return 0


def export(args: argparse.Namespace) -> int:
    print(commands.TrainedModel(args.model_dir).export(args.out))
    return 0


def tune(args: argparse.Namespace) -> int:
    from keras_estimator.tuning import run_sweep

    result = run_sweep(args.spec, directory=args.directory, overwrite=args.overwrite, export=not args.no_export)
    print(f"train the best: keras-estimator train --model-dir runs/{os.path.basename(result.directory)}"
          f" --hparams {result.best_params_path} --steps 2000")
    return 0


def demo(args: argparse.Namespace) -> int:
    ok = demo_command.demo(args.model_dir, args.export_dir, args.steps)
    if not ok:
        print(f"keras-estimator demo: accuracy below {demo_command.DEMO_MIN_ACCURACY:.0%}", file=sys.stderr)
    return 0 if ok else 1
