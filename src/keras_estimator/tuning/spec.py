"""Sweep specs: one TOML file per sweep, checked before any trial runs.

```toml
[sweep]             # all optional; name defaults to the file's stem
mode = "estimator"  # estimator | fit
oracle = "random"   # random | bayesian | hyperband
max_trials = 4
steps_per_trial = 300
objective = "accuracy"

[data]              # numbers input_fn params, except batch_size (a hyperparameter)
lang = "en"
targets = ["parity"]

[search_space]      # overrides of hypermodel.SEARCH_SPACE
model = ["gru", "cnn"]
units = {min = 16, max = 64, step = 16}
dropout = 0.0
```
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
from typing import Any, Mapping

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from keras_estimator.numbers import data as numbers_data  # Not `data`: a SweepSpec field.
from keras_estimator.numbers.vocabulary import number_words
from keras_estimator.tuning.hypermodel import SearchSpaceError, normalize_override, objective_names
from keras_estimator.validation import is_int

MODES = ("estimator", "fit")
ORACLES = ("random", "bayesian", "hyperband")
SECTIONS = ("sweep", "data", "search_space")
DATA_KEYS = tuple(k for k in numbers_data.DEFAULTS if k != "batch_size")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # Names a directory: keep it portable.


class SpecError(ValueError):
    """A sweep spec is invalid. The message starts with the file (when there is one) and names
    the offending field by its TOML path, e.g. "sweep.toml: [sweep].oracle must be one of
    random, bayesian, hyperband; got 'grid'".

    Attributes:
        field: The TOML path of the offending field (e.g. "[sweep].oracle"), or None.
        source: The spec file, or None.
    """

    def __init__(self, message: str, field: str | None = None, source: str | None = None):
        super().__init__(message)
        self.field = field
        self.source = source


def _fail(source: str | None, field: str, reason: str) -> SpecError:
    prefix = f"{source}: " if source else ""
    return SpecError(f"{prefix}{field} {reason}", field=field, source=source)


def _unknown(src: str | None, paths: list[str], what: str, allowed) -> SpecError:
    verb = f"is not a known {what}" if len(paths) == 1 else f"are not known {what}s"
    return _fail(src, ", ".join(paths), f"{verb}; allowed: {', '.join(allowed)}")


def _default_direction(objective: str) -> str:
    lower_is_better = any(objective == m or objective.endswith(f"_{m}") for m in ("loss", "mae"))
    return "min" if lower_is_better else "max"


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """One sweep: how to search (the `[sweep]` fields), over which data (`data`) and which
    hyperparameters (`search_space`). Construction checks every field.

    Args:
        name: The sweep's name (letters, digits, `_`, `.`, `-`); names its output directory.
        mode: "estimator" (train and evaluate each trial through the Estimator) or "fit"
            (Keras `fit` through `NumbersHyperModel.fit`).
        oracle: keras-tuner oracle: "random", "bayesian" or "hyperband".
        max_trials: Trials to run (>= 1). Ignored by hyperband, whose brackets (from
            max_epochs and hyperband_factor) decide the number of trials.
        steps_per_trial: Training steps of one trial (>= 1). For hyperband, the full budget of
            a trial that reaches the last bracket.
        hyperband_factor: Hyperband's reduction factor (>= 2); hyperband only.
        max_epochs: Hyperband only: steps_per_trial is split into max_epochs equal "epochs"
            (>= 1, and at most steps_per_trial).
        objective: An evaluation metric name as `Estimator.evaluate` / Keras `evaluate` report
            it for the data's targets: "accuracy" (or "mae", "loss") for one target;
            "loss", "<target>_loss" or "<target>_<metric>" (e.g. "parity_accuracy") for
            several. Fit mode's keras-tuner objective is "val_" + objective.
        direction: "max" or "min"; None derives it: "min" for loss, *_loss, mae and *_mae,
            else "max".
        seed: The tuner's seed (>= 0). The data's own seed is `data["seed"]`.
        eval_steps: Evaluation batches per trial (>= 1); None evaluates the whole eval set.
        data: `numbers.input_fn` params (see `DATA_KEYS`): checked with `resolve_params`;
            `targets` is stored as a list. batch_size is a hyperparameter, not allowed here.
        search_space: Overrides of `SEARCH_SPACE` in the `[search_space]` forms, stored
            normalised (see `hypermodel.normalize_override`).
        source: The file the spec was loaded from, or None.

    The dataclass is frozen; `data` and `search_space` are copies the spec owns (treat them
    as read-only).

    Raises:
        SpecError: naming the field by its TOML path, for a wrong type or value.
    """

    name: str
    mode: str = "estimator"
    oracle: str = "random"
    max_trials: int = 4
    steps_per_trial: int = 300
    hyperband_factor: int = 3
    max_epochs: int = 3
    objective: str = "accuracy"
    direction: str | None = None
    seed: int = 0
    eval_steps: int | None = None
    data: dict = dataclasses.field(default_factory=dict, hash=False)
    search_space: dict = dataclasses.field(default_factory=dict, hash=False)
    source: str | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        src = None if self.source is None else os.fspath(self.source)
        object.__setattr__(self, "source", src)

        def fail(key: str, reason: str) -> SpecError:
            return _fail(src, key, reason)

        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise fail("[sweep].name", "must be letters, digits, '_', '.' or '-', starting with a letter or "
                       f"digit; got {self.name!r}")
        for key, allowed in (("mode", MODES), ("oracle", ORACLES)):
            if getattr(self, key) not in allowed:
                raise fail(f"[sweep].{key}", f"must be one of {', '.join(allowed)}; got {getattr(self, key)!r}")
        lows = {"max_trials": 1, "steps_per_trial": 1, "hyperband_factor": 2, "max_epochs": 1, "seed": 0}
        for key, low in lows.items():
            value = getattr(self, key)
            if not is_int(value) or value < low:
                raise fail(f"[sweep].{key}", f"must be an integer >= {low}; got {value!r}")
        if self.eval_steps is not None and (not is_int(self.eval_steps) or self.eval_steps < 1):
            raise fail("[sweep].eval_steps",
                       f"must be an integer >= 1 (omit it for the whole eval set); got {self.eval_steps!r}")
        if self.oracle == "hyperband" and self.steps_per_trial < self.max_epochs:
            raise fail("[sweep].steps_per_trial", f"({self.steps_per_trial}) must be at least [sweep].max_epochs "
                       f"({self.max_epochs}) for hyperband: each epoch needs a step")

        object.__setattr__(self, "data", _check_data(self.data, src))
        object.__setattr__(self, "search_space", _check_search_space(self.search_space, src))

        if not isinstance(self.objective, str) or not self.objective:
            raise fail("[sweep].objective", f"must be a metric name; got {self.objective!r}")
        names = objective_names(self.data.get("targets", numbers_data.DEFAULTS["targets"]))
        if self.objective not in names:
            raise fail("[sweep].objective", f"must be a metric evaluate reports for these targets, one of "
                       f"{', '.join(names)}; got {self.objective!r}")
        if self.direction is None:
            object.__setattr__(self, "direction", _default_direction(self.objective))
        elif self.direction not in ("max", "min"):
            raise fail("[sweep].direction", f"must be one of max, min; got {self.direction!r}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str | os.PathLike | None = None) -> "SweepSpec":
        """A spec from parsed TOML: `{"sweep": {...}, "data": {...}, "search_space": {...}}`,
        every section optional.

        Args:
            d: The parsed document.
            source: The file it came from (names errors; its stem is the default name).

        Raises:
            SpecError: for an unknown section or key (naming it and listing the allowed
                ones), a section that is not a table, a missing name when there is no
                source, or any field the constructor rejects.
        """
        src = None if source is None else os.fspath(source)
        if not isinstance(d, Mapping):
            raise _fail(src, "the spec", f"must be a table of sections; got {type(d).__name__}")
        unknown = [k for k in d if k not in SECTIONS]
        if unknown:
            raise _unknown(src, [f"[{k}]" for k in unknown], "section", [f"[{s}]" for s in SECTIONS])
        for section in SECTIONS:
            if not isinstance(d.get(section, {}), Mapping):
                raise _fail(src, f"[{section}]", f"must be a table; got {d[section]!r}")
        sweep = dict(d.get("sweep", {}))
        allowed = [f.name for f in dataclasses.fields(cls) if f.name not in ("data", "search_space", "source")]
        unknown = [k for k in sweep if k not in allowed]
        if unknown:
            raise _unknown(src, [f"[sweep].{k}" for k in unknown], "key", allowed)
        if "name" not in sweep:
            if src is None:
                raise _fail(src, "[sweep].name", "is required when the spec has no file")
            sweep["name"] = pathlib.Path(src).stem
        return cls(**sweep, data=dict(d.get("data", {})), search_space=dict(d.get("search_space", {})), source=src)

    def to_dict(self) -> dict[str, Any]:
        """The spec as TOML-shaped sections (`from_dict(spec.to_dict())` gives an equal spec);
        eval_steps is left out when None (TOML has no null), and source is not included."""
        sweep = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                 if f.name not in ("data", "search_space", "source")}
        if sweep["eval_steps"] is None:
            del sweep["eval_steps"]
        return {"sweep": sweep, "data": _plain(self.data), "search_space": _plain(self.search_space)}


def _plain(value: Any) -> Any:
    """A deep copy with tables as dicts and sequences as lists, as tomllib would give them."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _check_data(params: Any, src: str | None) -> dict[str, Any]:
    if not isinstance(params, Mapping):
        raise _fail(src, "[data]", f"must be a table; got {params!r}")
    params = dict(params)
    if "batch_size" in params:
        raise _fail(src, "[data].batch_size",
                    "is a hyperparameter, not a data param: set it in [search_space] (e.g. batch_size = [32, 64])")
    unknown = [k for k in params if k not in DATA_KEYS]
    if unknown:
        raise _unknown(src, [f"[data].{k}" for k in unknown], "key", DATA_KEYS)
    _check_unresolved(params, src)
    boundaries = params.get("bucket_boundaries")
    try:
        resolved = numbers_data.resolve_params(params)
    except ValueError as e:
        # resolve_params names its field as params['key'], except for targets.
        match = re.search(r"params\['(\w+)'\]", str(e))
        key = match.group(1) if match else ("targets" if "target" in str(e) else None)
        raise _fail(src, f"[data].{key}" if key else "[data]", f"is invalid: {e}") from None
    if "targets" in params:
        params["targets"] = list(resolved["targets"])
    if boundaries is not None:
        params["bucket_boundaries"] = list(boundaries)
    return params


def _check_unresolved(params: dict[str, Any], src: str | None) -> None:
    """The data params `resolve_params` leaves unchecked (it checks the others)."""
    if "lang" in params:
        if not isinstance(params["lang"], str):
            raise _fail(src, "[data].lang", f"must be a string; got {params['lang']!r}")
        try:
            number_words(1, params["lang"])
        except ValueError as e:
            raise _fail(src, "[data].lang", f"is not a num2words language: {e}") from None
    if "seed" in params and (not is_int(params["seed"]) or params["seed"] < 0):
        raise _fail(src, "[data].seed", f"must be an integer >= 0; got {params['seed']!r}")
    boundaries = params.get("bucket_boundaries")
    positive_ints = isinstance(boundaries, (list, tuple)) and all(is_int(b) and b > 0 for b in boundaries)
    if boundaries is not None and not positive_ints:
        raise _fail(src, "[data].bucket_boundaries", f"must be a list of positive integers; got {boundaries!r}")
    if "targets" in params and not isinstance(params["targets"], (str, list, tuple)):
        raise _fail(src, "[data].targets", f"must be a list of target names; got {params['targets']!r}")


def _check_search_space(overrides: Any, src: str | None) -> dict[str, Any]:
    if not isinstance(overrides, Mapping):
        raise _fail(src, "[search_space]", f"must be a table; got {overrides!r}")
    checked = {}
    for key, value in overrides.items():
        try:
            checked[key] = normalize_override(key, value)
        except SearchSpaceError as e:
            raise _fail(src, f"[search_space].{e.key}", e.reason) from None
    return checked


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """The sweep spec in a TOML file (see the module docstring); name defaults to its stem.

    Args:
        path: The TOML file.

    Raises:
        SpecError: "<path> not found" for a missing file; the path and tomllib's message for
            invalid TOML; and whatever `SweepSpec.from_dict` raises.
    """
    src = os.fspath(path)
    try:
        with open(src, "rb") as f:
            document = tomllib.load(f)
    except FileNotFoundError:
        raise SpecError(f"{src}: spec file not found", source=src) from None
    except OSError as e:
        raise SpecError(f"{src}: cannot read the spec file: {e.strerror}", source=src) from None
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{src}: invalid TOML: {e}", source=src) from None
    return SweepSpec.from_dict(document, source=src)
