"""The `keras-estimator` command line (also `python -m keras_estimator`).

Parsing imports nothing heavy, so `--help` and usage errors are instant; TensorFlow is imported
when a command runs. User mistakes print one line on stderr and exit 1 (usage errors exit 2, as
argparse does); a crash that is a bug keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from keras_estimator.validation import is_number  # Light: parsing stays free of TensorFlow.

PROG = "keras-estimator"
EXAMPLES = """\
examples:
  keras-estimator demo
  keras-estimator train --model-dir runs/parity_en --lang en --model gru --steps 500
  keras-estimator train --model-dir runs/best --hparams tuning/results/parity_en/best_params.json --steps 2000
  keras-estimator evaluate --model-dir runs/parity_en
  keras-estimator predict --model-dir runs/parity_en forty-two "one hundred and seven"
  keras-estimator export --model-dir runs/parity_en --out exports/parity_en
  keras-estimator tune tuning/parity_en.toml
"""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not is_number(value) or value < 0:  # NaN is not a number here.
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _targets(text: str) -> list[str]:
    targets = [t.strip() for t in text.split(",") if t.strip()]
    if not targets:
        raise argparse.ArgumentTypeError("give at least one target, e.g. parity or parity,magnitude")
    return targets


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train, evaluate, serve and tune character-level numbers models with the "
        "Estimator workflow on Keras 3.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print the runtime's INFO logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="train, evaluate, export and serve English parity end to end",
                          description="The whole workflow on the embedded default: English parity through "
                          "the Estimator path, evaluated, exported with the raw-words signature, reloaded and "
                          "asked in words. Exits 1 if accuracy is below 95%%.")
    demo.add_argument("--model-dir", default="runs/demo", help="where to train (default: %(default)s)")
    demo.add_argument("--export-dir", default="exports/demo", help="export base directory (default: %(default)s)")
    demo.add_argument("--steps", type=_positive, default=400, help="training steps (default: %(default)s)")

    train = sub.add_parser("train", help="train (or resume) a numbers model in a model_dir",
                           description="Trains a numbers model, resuming from what model_dir holds, then "
                           "evaluates it on the held-out numbers. Params come from the model_dir (when resuming), "
                           "then --hparams, then the flags below.")
    train.add_argument("--model-dir", required=True, help="checkpoints, TensorBoard logs and params.json go here")
    steps = train.add_mutually_exclusive_group()
    steps.add_argument("--steps", type=_positive, help="train this many more steps (default 1000 when "
                       "--max-steps is not given)")
    steps.add_argument("--max-steps", type=_positive, help="train until the global step reaches this")
    train.add_argument("--path", choices=("estimator", "fit"), default="estimator",
                       help="the Estimator (model_to_estimator, default) or Keras fit")
    train.add_argument("--hparams", metavar="JSON", help="params file, e.g. a sweep's best_params.json")
    train.add_argument("--lang", help="num2words language code (default en)")
    train.add_argument("--targets", type=_targets, help="comma-separated: parity, magnitude, last_digit, value")
    train.add_argument("--model", help="gru, bigru or cnn (default gru)")
    train.add_argument("--units", type=_positive)
    train.add_argument("--embedding-dim", type=_positive)
    train.add_argument("--layers", type=_positive)
    train.add_argument("--dropout", type=_nonnegative_float)
    train.add_argument("--learning-rate", type=_nonnegative_float)
    train.add_argument("--batch-size", type=_positive)
    train.add_argument("--max-num", type=_positive, help="numbers are drawn below this (default 1000000)")
    train.add_argument("--seed", type=int, help="data and initialization seed (default 0)")
    train.add_argument("--save-checkpoints-steps", type=_positive,
                       help="checkpoint every N steps (default: every 10 minutes and at the end)")
    train.add_argument("--eval-steps", type=_positive, help="evaluation batches (default: all held-out numbers)")

    evaluate = sub.add_parser("evaluate", help="evaluate a trained model_dir on its held-out numbers")
    evaluate.add_argument("--model-dir", required=True)
    evaluate.add_argument("--steps", type=_positive, help="evaluation batches (default: all)")

    predict = sub.add_parser("predict", help="predict from numbers written as words",
                             description="Prints a table of words and predictions. Words come from the "
                             "arguments, or from stdin one per line.")
    predict.add_argument("--model-dir", required=True)
    predict.add_argument("words", nargs="*", help='e.g. forty-two "one hundred and seven"')

    export = sub.add_parser("export", help="export a SavedModel taking raw words (TensorFlow Serving layout)")
    export.add_argument("--model-dir", required=True)
    export.add_argument("--out", required=True, help="export base directory; the export is <out>/<timestamp>")

    tune = sub.add_parser("tune", help="run or resume a keras-tuner sweep from a TOML spec",
                          description="Runs the sweep in SPEC (format: tuning/README.md), resuming it if its "
                          "directory holds finished trials; prints the leaderboard and writes best_params.json "
                          "(for train --hparams) and the best trial's export.")
    tune.add_argument("spec", help="sweep spec, e.g. tuning/parity_en.toml")
    tune.add_argument("--directory", help="results directory (default tuning/results/<name>)")
    tune.add_argument("--overwrite", action="store_true", help="discard earlier results and start over")
    tune.add_argument("--no-export", action="store_true", help="do not export the best trial")
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("keras-estimator")
    except Exception:  # Not installed (run from a source tree).
        return "unknown"


def _import_tensorflow_quietly() -> None:
    """TensorFlow's C++ start-up notices (oneDNN, CUDA stubs) go to file descriptor 2 before
    its log level applies; TF_CPP_MIN_LOG_LEVEL does not silence them in TF 2.21. Import
    errors still surface: they are Python exceptions, raised after stderr is restored."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    # TensorFlow's C++ log level, read when TensorFlow is imported: 3 hides its notices about
    # missing GPUs and CPU features, which are not about the user's run.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if args.verbose else "3")
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("keras_estimator").setLevel(logging.INFO if args.verbose else logging.WARNING)

    if not args.verbose:
        _import_tensorflow_quietly()
    from keras_estimator.cli import run  # Imports TensorFlow.

    try:
        return run.dispatch(args)
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except run.USER_ERRORS as e:
        message = " ".join(str(e).split()) or type(e).__name__
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 1
