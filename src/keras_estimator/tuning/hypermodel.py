"""The search space of the numbers models and `NumbersHyperModel`, which builds one model per
keras-tuner trial and, for fit-mode sweeps, trains it with Keras `fit`.

The space is data (`SEARCH_SPACE`), and overrides take the same three forms as a sweep spec's
`[search_space]` table, so merging a spec into the default space is a dict update:

- a scalar fixes the value: `0.0` -> `hp.Fixed`;
- a list is a choice: `["gru", "cnn"]` -> `hp.Choice`;
- a table is a range: `{"min": 16, "max": 64, "step": 16}` -> `hp.Int`, or
  `{"min": 1e-3, "max": 1e-2, "sampling": "log"}` -> `hp.Float` (by the hyperparameter's type).
"""

from __future__ import annotations

import math
import types
from typing import Any, Mapping

import keras
import keras_tuner

from keras_estimator.mode_keys import ModeKeys
from keras_estimator.numbers import data
from keras_estimator.numbers.models import ARCHITECTURES, MODEL_DEFAULTS, build_model
from keras_estimator.validation import is_int, is_number


def _frozen(entries: dict[str, dict[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return types.MappingProxyType({k: types.MappingProxyType(v) for k, v in entries.items()})


# name -> description. "type" is the value type (int, float or str); the other keys give the
# form: "value" (fixed), "values" (choice) or "min"/"max" with optional "step" and "sampling".
# Names are build_model / input_fn params, so trial values pass straight through.
SEARCH_SPACE: Mapping[str, Mapping[str, Any]] = _frozen({
    "model": {"type": "str", "values": ("gru", "bigru", "cnn")},
    "embedding_dim": {"type": "int", "values": (8, 16, 32)},
    "units": {"type": "int", "min": 16, "max": 128, "step": 16},
    "layers": {"type": "int", "min": 1, "max": 2},
    "dropout": {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1},
    "learning_rate": {"type": "float", "min": 1e-3, "max": 3e-2, "sampling": "log"},
    "batch_size": {"type": "int", "values": (32, 64, 128)},
})

_RANGE_KEYS = ("min", "max", "step", "sampling")
_SAMPLINGS = ("linear", "log")
# The value each target's compiled metric reports under (see numbers.models.build_model).
_TARGET_METRIC = {"parity": "accuracy", "magnitude": "accuracy", "last_digit": "accuracy", "value": "mae"}


class SearchSpaceError(ValueError):
    """A search-space override is invalid.

    Attributes:
        key: The hyperparameter name (a `SEARCH_SPACE` key, or the unknown name given).
        reason: What is wrong, phrased to follow the key ("takes positive integers; got 0").
    """

    def __init__(self, key: str, reason: str = ""):
        self.key = key
        self.reason = reason
        super().__init__(f"search_space[{key!r}] {reason}" if reason else key)


def objective_names(targets: Any) -> list[str]:
    """The metric names Keras `evaluate` and `Estimator.evaluate` report for these targets:
    `loss` and the target's metric (`accuracy`, or `mae` for value) for one target; `loss`,
    `<target>_loss` and `<target>_<metric>` for several.

    Args:
        targets: Target names, or a comma-separated string, as `input_fn` params take them.

    Raises:
        ValueError: for an unknown target.
    """
    targets = data.resolve_params({"targets": targets})["targets"]
    if len(targets) == 1:
        return ["loss", _TARGET_METRIC[targets[0]]]
    return ["loss"] + [f"{t}_{name}" for t in targets for name in ("loss", _TARGET_METRIC[t])]


def _check_value(key: str, value: Any) -> Any:
    """One value of hyperparameter `key`, converted to its type (an int is a valid float)."""
    kind = SEARCH_SPACE[key]["type"]
    if kind == "str":
        if value not in ARCHITECTURES:
            raise SearchSpaceError(key, f"takes one of {', '.join(ARCHITECTURES)}; got {value!r}")
        return value
    if kind == "int":
        if not is_int(value) or value <= 0:
            raise SearchSpaceError(key, f"takes positive integers; got {value!r}")
        return value
    if not (is_number(value) and math.isfinite(value)):
        raise SearchSpaceError(key, f"takes numbers; got {value!r}")
    value = float(value)
    if key == "dropout" and not 0.0 <= value < 1.0:
        raise SearchSpaceError(key, f"takes numbers in [0, 1); got {value!r}")
    if key == "learning_rate" and value <= 0:
        raise SearchSpaceError(key, f"takes numbers > 0; got {value!r}")
    return value


def _check_range(key: str, table: Mapping[str, Any]) -> dict[str, Any]:
    kind = SEARCH_SPACE[key]["type"]
    if kind == "str":
        raise SearchSpaceError(key, "takes a value or a list of values, not a {min, max} table")
    unknown = sorted(set(table) - set(_RANGE_KEYS))
    if unknown:
        raise SearchSpaceError(key, f"has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_RANGE_KEYS)}")
    missing = [k for k in ("min", "max") if k not in table]
    if missing:
        raise SearchSpaceError(key, f"needs {' and '.join(missing)} in a range table")
    low, high = _check_value(key, table["min"]), _check_value(key, table["max"])
    if low >= high:
        raise SearchSpaceError(
            key, f"needs min below max; got min = {low!r}, max = {high!r} (for a fixed value, use a scalar)"
        )
    out = {"min": low, "max": high}
    sampling = table.get("sampling", "linear")
    if sampling not in _SAMPLINGS:
        raise SearchSpaceError(key, f"has sampling {sampling!r}; choose {' or '.join(_SAMPLINGS)}")
    if sampling == "log":
        if low <= 0:  # Unreachable for positive-only types, kept for dropout.
            raise SearchSpaceError(key, f"needs min > 0 for sampling = 'log'; got min = {low!r}")
        if "step" in table:  # keras-tuner would read step as a multiplier: too easy to misread.
            raise SearchSpaceError(key, "cannot combine step with sampling = 'log'")
        out["sampling"] = "log"
    if "step" in table:
        step = table["step"]
        valid = (is_int(step) if kind == "int" else is_number(step) and math.isfinite(step)) and step > 0
        if not valid:
            what = "integer" if kind == "int" else "number"
            raise SearchSpaceError(key, f"needs a positive {what} step; got step = {step!r}")
        out["step"] = step if kind == "int" else float(step)
    return out


def normalize_override(key: str, value: Any) -> Any:
    """One `[search_space]` override checked and converted to its hyperparameter's type.

    Args:
        key: A `SEARCH_SPACE` name.
        value: A scalar (fixed value), a non-empty list of distinct values (choice), or a
            `{min, max, step?, sampling?}` mapping (range; not for `model`).

    Returns:
        The same form with values of the hyperparameter's type (ints become floats for
        `dropout` and `learning_rate`; a tuple becomes a list).

    Raises:
        SearchSpaceError: naming `key`, for an unknown name, a value of the wrong type or out
            of range (model not one of gru/bigru/cnn, a size not a positive integer, dropout
            outside [0, 1), learning_rate <= 0), an empty or repeating list, min >= max,
            an unknown range key or sampling, or log sampling with min <= 0.
    """
    if key not in SEARCH_SPACE:
        raise SearchSpaceError(key, f"is not a hyperparameter; choose from {', '.join(SEARCH_SPACE)}")
    if isinstance(value, Mapping):
        return _check_range(key, value)
    if isinstance(value, (list, tuple)):
        values = [_check_value(key, v) for v in value]
        if not values:
            raise SearchSpaceError(key, "has an empty list of choices")
        if len(set(values)) != len(values):
            raise SearchSpaceError(key, f"repeats a value in its choices: {values!r}")
        return values
    return _check_value(key, value)


def merge_search_space(overrides: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """`SEARCH_SPACE` with `overrides` (the `[search_space]` forms) in place of their entries.

    Returns:
        name -> description in the `SEARCH_SPACE` form ("type" plus "value", "values" or a
        range), one per `SEARCH_SPACE` name, in `SEARCH_SPACE` order.

    Raises:
        SearchSpaceError: as `normalize_override`.
    """
    merged = {name: dict(entry) for name, entry in SEARCH_SPACE.items()}
    for key, value in (overrides or {}).items():
        value = normalize_override(key, value)
        if isinstance(value, dict):
            form = value
        elif isinstance(value, list):
            form = {"values": tuple(value)}
        else:
            form = {"value": value}
        merged[key] = {"type": SEARCH_SPACE[key]["type"], **form}  # Replaces the whole entry.
    return merged


def _register(hp: keras_tuner.HyperParameters, name: str, entry: Mapping[str, Any]) -> Any:
    if "value" in entry:
        return hp.Fixed(name, entry["value"])
    if "values" in entry:
        return hp.Choice(name, list(entry["values"]))
    make = hp.Int if entry["type"] == "int" else hp.Float
    return make(name, entry["min"], entry["max"], step=entry.get("step"), sampling=entry.get("sampling", "linear"))


class NumbersHyperModel(keras_tuner.HyperModel):
    """A numbers model per trial: the data params are fixed, the model params and batch_size
    come from the trial's hyperparameters.

    Args:
        data_params: Data params of `numbers.input_fn` (lang, targets, max_num, eval_size,
            pool_size, seed, pipeline, bucket_boundaries) and optionally model params that are
            not hyperparameters (kernel_size). Default: `input_fn`'s defaults.
        search_space: Overrides of `SEARCH_SPACE`, in the `[search_space]` forms (a scalar, a
            list or a range table per name); the rest of the default space stays.
        name: The hypermodel's name (keras-tuner's `HyperModel.name`).
        tunable: keras-tuner's flag: when False, `build` registers nothing new in the
            tuner's search space (it must be declared beforehand, or defaults are used).

    Raises:
        ValueError: for data params `resolve_params` rejects, for unknown keys or
            hyperparameter names in data_params (naming them), or (`SearchSpaceError`) for
            an invalid override.
    """

    def __init__(
        self,
        data_params: Mapping[str, Any] | None = None,
        search_space: Mapping[str, Any] | None = None,
        name: str | None = None,
        tunable: bool = True,
    ):
        super().__init__(name=name, tunable=tunable)
        data_params = dict(data_params or {})
        tuned = sorted(set(data_params) & set(SEARCH_SPACE))
        if tuned:
            raise ValueError(
                f"data_params {tuned} are hyperparameters: fix them with search_space "
                f"(e.g. search_space={{{tuned[0]!r}: ...}}) instead."
            )
        allowed = (set(data.DEFAULTS) | set(MODEL_DEFAULTS)) - set(SEARCH_SPACE)
        unknown = sorted(set(data_params) - allowed)
        if unknown:
            raise ValueError(f"Unknown data_params {unknown}; allowed: {sorted(allowed)}.")
        data.resolve_params(data_params)  # Fail now, not in the first trial.
        self.data_params = data_params
        self.space = merge_search_space(search_space)

    def _values(self, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
        if not self.tunable:  # Same rule as HyperModel.build: leave the tuner's space alone.
            hp = hp.copy()
        return {name: _register(hp, name, entry) for name, entry in self.space.items()}

    def params(self, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
        """The flat params of one trial: the data params plus every hyperparameter's value
        (registering them in `hp` if needed), batch_size included. This is what `input_fn`
        and `build_model` take, and what the training command accepts as hparams JSON
        (tuples become lists).

        Args:
            hp: The trial's `keras_tuner.HyperParameters`.
        """
        merged = {**self.data_params, **self._values(hp)}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in merged.items()}

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Registers the merged search space in `hp` and returns the compiled model
        `build_model(self.params(hp))` (outputs named after the targets)."""
        return build_model(self.params(hp))

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs) -> keras.callbacks.History:
        """Trains `model` with Keras `fit` on the trial's `input_fn` data, validating on the
        held-out numbers every epoch (so Keras logs `val_<metric>`, e.g. `val_accuracy`).

        keras-tuner calls this with the keyword arguments given to `tuner.search(...)` plus
        its own `callbacks`. The training data come from the params, so give no data. The
        step budget is one of:

        - `steps_per_trial=N` (with optional `epochs=E`, default 1): N training steps in E
          equal epochs of N // E steps. Not with Hyperband, which sets `epochs` per trial.
        - `steps_per_epoch=S`: Keras's own; with Hyperband (which passes `epochs` and
          `initial_epoch` from its brackets) use S = steps_per_trial // max_epochs.

        Other keyword arguments (`callbacks`, `validation_steps` to cut evaluation short,
        `verbose` (default 0), `epochs`, `initial_epoch`, ...) go to `model.fit`.

        Args:
            hp: The trial's hyperparameters (batch_size is read from them).
            model: The model `build(hp)` returned.

        Returns:
            The `keras.callbacks.History` of `model.fit`.

        Raises:
            TypeError: for positional arguments or x, y, validation_data (the data come
                from the params).
            ValueError: if neither or both of steps_per_trial and steps_per_epoch are given,
                steps_per_trial is below epochs or not a positive integer, or
                steps_per_trial is used with Hyperband.
        """
        given = [k for k in ("x", "y", "validation_data") if k in kwargs]
        if args or given:
            raise TypeError(
                f"NumbersHyperModel.fit reads its data from input_fn; got {given or 'positional arguments'}."
            )
        steps_per_trial = kwargs.pop("steps_per_trial", None)
        if (steps_per_trial is None) == (kwargs.get("steps_per_epoch") is None):
            raise ValueError(
                "Give exactly one of steps_per_trial and steps_per_epoch, e.g. tuner.search(steps_per_trial=300)."
            )
        if steps_per_trial is not None:
            if "tuner/epochs" in hp.values:  # Hyperband: epochs differ by bracket.
                raise ValueError(
                    "With Hyperband, pass steps_per_epoch=steps_per_trial // max_epochs: it sets epochs per trial."
                )
            epochs = kwargs.setdefault("epochs", 1)
            if not is_int(steps_per_trial) or steps_per_trial < max(epochs, 1):
                raise ValueError(f"steps_per_trial must be an integer >= epochs ({epochs}); got {steps_per_trial!r}.")
            kwargs["steps_per_epoch"] = steps_per_trial // epochs
        kwargs.setdefault("verbose", 0)  # A progress bar per trial epoch drowns the tuner's log.
        kwargs.setdefault("shuffle", False)  # input_fn shuffles; Keras cannot shuffle a Dataset.
        params = self.params(hp)
        return model.fit(
            data.input_fn(params, ModeKeys.TRAIN),
            validation_data=data.input_fn(params, ModeKeys.EVAL),
            **kwargs,
        )
