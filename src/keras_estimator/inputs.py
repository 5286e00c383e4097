"""Calling input_fn and checking what it returns, before anything runs or is written."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Mapping

import tensorflow as tf

from keras_estimator import fn_args
from keras_estimator.errors import InputError, MissingFeatureError
from keras_estimator.files import write_text_atomically
from keras_estimator.mode_keys import ModeKeys

SIGNATURE_FILE = "input_signature.json"


def call_input_fn(
    input_fn: Callable, mode: str, params: dict, config: Any, input_context: Any = None
) -> tf.data.Dataset:
    """Calls `input_fn` with the arguments it names and returns its dataset.

    Raises:
        ValueError: if input_fn takes arguments other than params, mode, config, input_context.
        InputError: if it returns anything but a `tf.data.Dataset`.
    """
    fn_args.check_args(input_fn, "input_fn", fn_args.INPUT_FN_ARGS)
    result = fn_args.call(
        input_fn,
        {"params": params, "mode": mode, "config": config, "input_context": input_context},
    )
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


def split_element_spec(element_spec: Any, mode: str) -> tuple[Any, Any]:
    """Splits a dataset's element_spec into (features, labels); labels is None when absent.

    Raises:
        InputError: for a tuple that is not (features, labels), non-string feature keys, or
            missing labels in TRAIN and EVAL.
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
    if labels is None and mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
        raise InputError(
            f"Labels are missing: mode {mode!r} needs input_fn's dataset to yield "
            f"(features, labels), but it yields features only ({describe(features)})."
        )
    return features, labels


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


# -- signatures: what the model was trained with --------------------------------------------
def signature_of(features: Any, labels: Any) -> dict:
    return {"features": _entries(features), "labels": _entries(labels)}


def _entries(spec: Any) -> dict | None:
    if spec is None:
        return None
    items = spec.items() if isinstance(spec, Mapping) else [("", spec)]
    return {
        key: {"dtype": s.dtype.name, "rank": s.shape.rank} if hasattr(s, "dtype") else {}
        for key, s in items
    }


def check_signature(expected: dict, features: Any, labels: Any, mode: str, given_by: str = "input_fn") -> None:
    """Compares an input with the one the model was trained with.

    Args:
        given_by: What produced the input, for the message: "input_fn", or
            "serving_input_receiver_fn" for the features of an export.

    Raises:
        InputError: naming the missing or unexpected key, or the key whose dtype or rank differs.
    """
    given = signature_of(features, labels)
    _compare(expected["features"], given["features"], "features", mode, given_by)
    if mode != ModeKeys.PREDICT and expected.get("labels") is not None and given["labels"] is not None:
        _compare(expected["labels"], given["labels"], "labels", mode, given_by)


def _compare(expected: dict, given: dict, what: str, mode: str, given_by: str = "input_fn") -> None:
    # "features in mode 'train' ...", or "serving_input_receiver_fn's features ..." for an export.
    by_input_fn = given_by == "input_fn"
    owner = "" if by_input_fn else f"{given_by}'s "
    in_mode = f" in mode {mode!r}" if by_input_fn else ""
    subject = f"{owner}{what}{in_mode}"
    single_e, single_g = list(expected) == [""], list(given) == [""]
    if single_e != single_g:
        shape = lambda single: "a single tensor" if single else "a dict"
        raise InputError(
            f"{subject} are {shape(single_g)}, but the model was trained with "
            f"{shape(single_e)} ({sorted(expected)})."
        )
    missing = sorted(set(expected) - set(given))
    if missing:
        raise InputError(
            f"{subject} are missing key(s) {missing}: the model was trained with "
            f"{sorted(expected)}, {given_by} gave {sorted(given)}."
        )
    unexpected = sorted(set(given) - set(expected))
    if unexpected:
        raise InputError(
            f"{subject} have unexpected key(s) {unexpected}: the model was trained "
            f"with {sorted(expected)}. Remove them in {given_by}."
        )
    for key, e in expected.items():
        g = given[key]
        label = f"{owner}{what}[{key!r}]" if key else f"{owner}{what}"
        if e.get("dtype") and g.get("dtype") and e["dtype"] != g["dtype"]:
            raise InputError(
                f"{label} has dtype {g['dtype']}{in_mode}, but the model was trained with "
                f"{e['dtype']}."
            )
        if e.get("rank") is not None and g.get("rank") is not None and e["rank"] != g["rank"]:
            raise InputError(
                f"{label} has rank {g['rank']}{in_mode}, but the model was trained with "
                f"rank {e['rank']}."
            )


def load_signature(model_dir: str) -> dict | None:
    path = os.path.join(model_dir, SIGNATURE_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_signature(model_dir: str, signature: dict) -> None:
    """Writes atomically (temporary file, then rename): a crash leaves the old file or none."""
    write_text_atomically(os.path.join(model_dir, SIGNATURE_FILE), json.dumps(signature, indent=1, sort_keys=True))


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
