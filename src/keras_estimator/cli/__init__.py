"""The `keras-estimator` command line: demo, train, evaluate, predict, export, tune.

It drives the numbers application and the tuning module; it sits beside the runtime, which
never imports it.
"""

from keras_estimator.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
