"""The input signature: the features and labels a model was trained with.

Recorded from the first `train` call's input, written into model_dir (`input_signature.json`)
with the first checkpoint (so a call that fails writes nothing), and checked against every later
call's input and every export's receiver, so a wrong feature fails early and by name instead of
deep inside model_fn (or silently, for a rank-compatible dtype change). Another width of the same
kind (float32 where training had float64) is accepted with a warning, as tf.estimator took it.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from keras_estimator.errors import InputError
from keras_estimator.files import read_json, write_json_atomically
from keras_estimator.mode_keys import ModeKeys

SIGNATURE_FILE = "input_signature.json"
logger = logging.getLogger("keras_estimator")


class InputSignature:
    """The signature of one model_dir, read from it once and cached.

    Args:
        model_dir: Where `input_signature.json` is (or will be) written.
    """

    def __init__(self, model_dir: str):
        self._path = os.path.join(model_dir, SIGNATURE_FILE)
        self._known: dict | None = None
        self._pending: dict | None = None  # Recorded by a first train, not yet written.

    @property
    def expected(self) -> dict | None:
        """What the model was trained with, or None before the first checkpoint."""
        if self._known is None:
            self._known = read_json(self._path)
        return self._known

    def check_or_record(self, mode: str, features: Any, labels: Any, given_by: str = "input_fn") -> None:
        """Checks an input against the signature; a first TRAIN input is recorded instead.

        Args:
            given_by: What produced the input, for the message (see `check`).

        Raises:
            InputError: naming the missing or unexpected key, or the key whose dtype or rank
                differs.
        """
        expected = self.expected
        if expected is not None:
            check(expected, features, labels, mode, given_by)
        elif mode == ModeKeys.TRAIN:
            self._pending = signature_of(features, labels)

    def check_receiver(self, features: Any) -> None:
        """Checks an export's receiver features (the message names the receiver function)."""
        self.check_or_record(ModeKeys.PREDICT, features, None, given_by="serving_input_receiver_fn")

    def write_pending(self) -> None:
        """Writes a recorded signature (atomically); called before the first checkpoint."""
        if self.expected is None and self._pending is not None:
            write_json_atomically(self._path, self._pending, indent=1)
            self._known = self._pending


def signature_of(features: Any, labels: Any, detail: bool = False) -> dict:
    """The JSON-able description of an input: each key's dtype and rank (with `detail`, for
    an input being checked, also its last dimension and whether it is sparse)."""
    return {"features": _entries(features, detail), "labels": _entries(labels, detail)}


def _entries(spec: Any, detail: bool) -> dict | None:
    if spec is None:
        return None
    items = spec.items() if isinstance(spec, Mapping) else [("", spec)]
    return {key: _entry(s, detail) if hasattr(s, "dtype") else {} for key, s in items}


def _entry(spec: Any, detail: bool) -> dict:
    entry = {"dtype": spec.dtype.name, "rank": spec.shape.rank}
    if detail:
        entry["last"] = spec.shape[-1] if spec.shape.rank else None
        entry["sparse"] = type(spec).__name__ in ("SparseTensorSpec", "RaggedTensorSpec")
    return entry


def check(expected: dict, features: Any, labels: Any, mode: str, given_by: str = "input_fn") -> None:
    """Compares an input with the one the model was trained with.

    Args:
        given_by: What produced the input, for the message: "input_fn", or
            "serving_input_receiver_fn" for the features of an export.

    Raises:
        InputError: naming the missing or unexpected key, or the key whose dtype or rank differs.
    """
    given = signature_of(features, labels, detail=True)
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
        label = f"{owner}{what}[{key!r}]" if key else f"{owner}{what}"
        _compare_entry(e, given[key], label, in_mode, batched_scalar_ok=not by_input_fn)


def _compare_entry(e: dict, g: dict, label: str, in_mode: str, batched_scalar_ok: bool) -> None:
    """One key's dtype and rank. `batched_scalar_ok` (receivers): as tf.estimator accepted, a
    model trained on unbatched scalars serves batches of them (the receiver TensorFlow's guides
    build from a scalar example), and one trained on `[batch]` serves `[batch, 1]` or a sparse
    `[batch, n]` (a parsing receiver's numeric and categorical feature columns)."""
    if e.get("dtype") and g.get("dtype") and e["dtype"] != g["dtype"]:
        message = f"{label} has dtype {g['dtype']}{in_mode}, but the model was trained with {e['dtype']}"
        if _kind(e["dtype"]) != _kind(g["dtype"]) or _kind(e["dtype"]) is None:
            raise InputError(message + ".")
        # Another width of the same kind (float64 from pandas in training, float32 from Python
        # lists when predicting): tf.estimator rebuilt its graph per call and took it.
        logger.warning("%s: accepted, as tf.estimator did (model_fn gets %s).", message, g["dtype"])
    one_more = batched_scalar_ok and ((e.get("rank"), g.get("rank")) == (0, 1) or (
        (e.get("rank"), g.get("rank")) == (1, 2) and (g.get("last") == 1 or g.get("sparse"))))
    if e.get("rank") is not None and g.get("rank") is not None and e["rank"] != g["rank"] and not one_more:
        raise InputError(
            f"{label} has rank {g['rank']}{in_mode}, but the model was trained with rank {e['rank']}."
        )


def _kind(dtype: str) -> str | None:
    """"float", "int" or "uint" for a numeric dtype name; None for the others."""
    for kind in ("float", "uint", "int"):
        if dtype.startswith(kind) or (kind == "float" and dtype == "bfloat16"):
            return kind
    return None
