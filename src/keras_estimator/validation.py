"""Argument checks shared by the runtime and the applications: one place for "is this an int".

`bool` is an `int` in Python, so every check refuses it explicitly: `steps=True` is a mistake,
not one step. Numpy integers and floats are accepted where Python's are.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Iterable
from typing import Any

_SIMPLE_NAME = re.compile(r"[\w.-]+")


def is_int(value: Any) -> bool:
    """True for Python and numpy integers, False for bools and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """True for real numbers that are not NaN (bools excluded)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)


def check_int(name: str, value: Any, minimum: int, *, optional: bool = False, word: str = "got") -> Any:
    """Returns `value` if it is an integer >= minimum (or None when `optional`).

    Raises:
        ValueError: "<name> must be an integer >= <minimum>, <word> <value>."
    """
    if value is None and optional:
        return None
    if not is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, {word} {value!r}.")
    return value


def check_number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = False,
                 finite: bool = False, word: str = "got", what: str | None = None) -> Any:
    """Returns `value` if it is a real number >= minimum (> minimum when `strict`).

    Args:
        finite: Also refuse infinity.
        what: The phrase after "must be" in the message (default: "a number >= minimum").

    Raises:
        ValueError: "<name> must be <what>, <word> <value>."
    """
    ok = is_number(value) and (value > minimum if strict else value >= minimum)
    if ok and finite:
        ok = math.isfinite(value)
    if not ok:
        what = what or f"a number {'>' if strict else '>='} {minimum:g}"
        raise ValueError(f"{name} must be {what}, {word} {value!r}.")
    return value


def check_steps(name: str, value: Any) -> Any:
    """tf.estimator's check of `steps` / `max_steps`: None or a positive integer.

    Raises:
        ValueError: "Must specify <name> > 0, given: <value>" (tf.estimator's words); for a value
            that is not an integer (`"3"`, 1.5, True) the message names its type.
    """
    if value is None:
        return None
    if not is_int(value):
        raise ValueError(f"Must specify {name} > 0 as an integer, given: {value!r} of type {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"Must specify {name} > 0, given: {value}")
    return value


def is_simple_name(value: Any) -> bool:
    """A string usable as one directory name: letters, digits, `_`, `.`, `-`; not `.` or `..`."""
    return isinstance(value, str) and bool(_SIMPLE_NAME.fullmatch(value)) and value not in (".", "..")


def check_instances(values: Any, cls: type, what: str) -> list:
    """`values` (None or an iterable) as a list whose items are all `cls` instances.

    Raises:
        ValueError: "<what> must be <cls> instances, got <type>."
    """
    if values is not None and not isinstance(values, Iterable):
        raise ValueError(f"{what} must be a list of {cls.__name__} instances, got {type(values).__name__}.")
    values = list(values or ())
    for value in values:
        if not isinstance(value, cls):
            raise ValueError(f"{what} must be {cls.__name__} instances, got {type(value).__name__}.")
    return values


def file_in_the_way(path: str) -> str | None:
    """The file that keeps `path` from being or becoming a directory: `path` itself (absolute)
    when it is an existing file, or its nearest existing ancestor when that is a file; None when
    nothing is in the way."""
    path = os.path.abspath(path)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path if os.path.exists(path) and not os.path.isdir(path) else None
