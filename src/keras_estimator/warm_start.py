"""Warm start: a first `train` on an empty model_dir takes its starting weights from another
checkpoint (`WarmStartSettings`, tf.estimator's name)."""

from __future__ import annotations

import logging
import os
import re

import tensorflow as tf

from keras_estimator import checkpoints as ckpt_lib

logger = logging.getLogger("keras_estimator")


class WarmStartSettings:
    """Where `train` takes initial weights from when model_dir has no checkpoint yet.

    Args:
        ckpt_to_initialize_from: A checkpoint prefix, or a directory whose latest checkpoint is
            used.
        vars_to_warm_start: A regular expression; trainable variables whose names match it and
            that the checkpoint holds with the same shape are loaded.
    """

    def __init__(self, ckpt_to_initialize_from: str | os.PathLike, vars_to_warm_start: str = ".*"):
        self.ckpt_to_initialize_from = os.fspath(ckpt_to_initialize_from)
        self.vars_to_warm_start = vars_to_warm_start


def apply(settings: WarmStartSettings, variables: dict[str, tf.Variable]) -> None:
    """Loads into `variables` (store name -> variable) the trainable ones that the settings'
    checkpoint holds under that name with the same shape; logs which (a warning for none).

    Raises:
        CheckpointNotFoundError: if the settings name no checkpoint.
    """
    path = ckpt_lib.resolve(None, settings.ckpt_to_initialize_from)
    names = ckpt_lib.variable_names(path)
    pattern = re.compile(settings.vars_to_warm_start)
    loaded = []
    for key, variable in variables.items():
        if variable.trainable and pattern.match(key) and key in names:
            value = tf.train.load_variable(path, names[key])
            if tuple(value.shape) == tuple(variable.shape):
                variable.assign(value)
                loaded.append(key)
    if loaded:
        logger.info("Warm-started %d variable(s) from %s: %s", len(loaded), path, loaded)
    else:
        logger.warning(
            "Warm start from %s loaded no variable: none of its names and shapes match the "
            "trainable variables model_fn built that match %r.", path, settings.vars_to_warm_start,
        )
