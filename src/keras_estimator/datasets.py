"""Calling input_fn and checking the dataset it returns, before anything runs or is written."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import tensorflow as tf

from keras_estimator import _compat, fn_args
from keras_estimator.errors import InputError, MissingFeatureError
from keras_estimator.mode_keys import ModeKeys


def call_input_fn(
    input_fn: Callable, mode: str, params: dict, config: Any, input_context: Any = None
) -> tf.data.Dataset:
    """Calls `input_fn` with the arguments it names and returns its dataset.

    Raises:
        ValueError: if input_fn takes arguments other than params, mode, config, input_context.
        InputError: if it returns anything but a `tf.data.Dataset`.
    """
    fn_args.check_args(input_fn, "input_fn", fn_args.INPUT_FN_ARGS)
    recorded: list = []
    with _compat.one_shot_iterators_recorded(recorded):
        result = fn_args.call(
            input_fn,
            {"params": params, "mode": mode, "config": config, "input_context": input_context},
        )
    result = _dataset_of_get_next(result, recorded)
    if not isinstance(result, tf.data.Dataset):
        hint = ""
        if isinstance(result, (tuple, list)):
            hint = (
                " Tensors are not re-evaluated per step in TensorFlow 2: build a dataset, e.g. "
                "tf.data.Dataset.from_tensor_slices((features, labels)).batch(...)."
            )
        raise InputError(
            f"input_fn for mode {mode!r} must return a tf.data.Dataset of (features, labels) "
            f"or of features, got {type(result).__name__}.{hint}"
        )
    return result


def _dataset_of_get_next(result: Any, recorded: list) -> Any:
    """TF1's `return dataset.make_one_shot_iterator().get_next()` (or its parts, regrouped)
    stands for the dataset, as a TF1 graph re-ran get_next every step; anything else is
    returned as it is."""
    if isinstance(result, tf.data.Dataset) or not recorded:
        return result
    leaves = tf.nest.flatten(result)
    for dataset, outputs in recorded:
        if sorted(map(id, leaves)) == sorted(map(id, outputs)):
            order = [next(i for i, t in enumerate(outputs) if t is leaf) for leaf in leaves]
            return dataset.map(lambda *element: tf.nest.pack_sequence_as(
                result, [tf.nest.flatten(element)[i] for i in order]))
    return result


def distributed_datasets(input_fn: Callable, mode: str, strategy: Any, params: dict,
                         config: Any) -> tuple[tf.data.Dataset, Any]:
    """(dataset, what to iterate) for `mode` under `strategy`. Under a multi-replica strategy
    input_fn is called once per input pipeline (worker) with its `tf.distribute.InputContext`,
    as tf.estimator did: its batches are per-replica batches, each step takes one per replica
    (the last step of uneven data gives some replicas an empty batch), and the second value is
    the distributed dataset.

    Raises:
        ValueError, InputError: as `call_input_fn`.
    """
    if strategy.num_replicas_in_sync == 1:
        dataset = call_input_fn(input_fn, mode, params, config)
        return dataset, dataset
    made = []

    def dataset_fn(input_context):
        made.append(call_input_fn(input_fn, mode, params, config, input_context))
        return made[-1]

    distributed = strategy.distribute_datasets_from_function(dataset_fn)
    return made[0], distributed


def split_element_spec(element_spec: Any, mode: str) -> tuple[Any, Any]:
    """Splits a dataset's element_spec into (features, labels); labels is None when absent.

    Raises:
        InputError: for a tuple that is not (features, labels), or non-string feature keys.
    """
    if isinstance(element_spec, tuple):
        if len(element_spec) != 2:
            raise InputError(
                f"input_fn's dataset yields tuples of length {len(element_spec)}; elements must "
                "be (features, labels) or features alone."
            )
        features, labels = element_spec
    else:
        features, labels = element_spec, None
    _check_keys(features, "features")
    if labels is not None:
        _check_keys(labels, "labels")
    return features, labels


def labels_missing(mode: str, features: Any) -> InputError:
    """The error for a dataset of features only in TRAIN or EVAL, when model_fn needs labels.

    tf.estimator passed `labels=None` then, and a model_fn that does not use them is fine."""
    return InputError(
        f"Labels are missing: mode {mode!r} needs input_fn's dataset to yield "
        f"(features, labels), but it yields features only ({describe(features)})."
    )


def _check_keys(spec: Any, what: str) -> None:
    if isinstance(spec, Mapping):
        bad = [k for k in spec if not isinstance(k, str)]
        if bad:
            raise InputError(f"{what} dict keys must be strings, got {bad}.")
        if not spec:
            raise InputError(f"{what} is an empty dict.")


def describe(spec: Any) -> str:
    """Human-readable `{key: dtype[shape]}` of a spec or tensor structure."""
    def one(s):
        return f"{s.dtype.name}{list(s.shape)}" if hasattr(s, "dtype") else type(s).__name__
    if isinstance(spec, Mapping):
        return "{" + ", ".join(f"{k!r}: {one(v)}" for k, v in spec.items()) + "}"
    return one(spec)


class FeatureDict(dict):
    """The features (or labels) dict model_fn receives: a missing key names what exists."""

    what = "features"

    def __missing__(self, key):
        raise MissingFeatureError(
            f"model_fn asked for {self.what}[{key!r}], but input_fn provides only "
            f"{sorted(self)}."
        )


class LabelDict(FeatureDict):
    what = "labels"


def wrap(structure: Any, cls: type = FeatureDict) -> Any:
    return cls(structure) if isinstance(structure, Mapping) else structure
