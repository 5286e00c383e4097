"""Calling user functions (model_fn, input_fn) by argument name, as tf.estimator did."""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Callable, Iterable

logger = logging.getLogger("keras_estimator")

MODEL_FN_ARGS = ("features", "labels", "mode", "params", "config")
INPUT_FN_ARGS = ("params", "mode", "config", "input_context")


def fn_args(fn: Callable) -> tuple[tuple[str, ...], bool]:
    """Returns (named parameters, whether it takes **kwargs)."""
    target = fn.func if isinstance(fn, functools.partial) else fn
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        parameters = inspect.signature(target.__call__).parameters.values()
    # Arguments a functools.partial already binds by keyword are not the caller's to pass.
    bound = set(fn.keywords) if isinstance(fn, functools.partial) else set()
    names = tuple(
        p.name for p in parameters
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY, p.POSITIONAL_ONLY)
        and p.name not in bound
    )
    has_kwargs = any(p.kind == p.VAR_KEYWORD for p in parameters)
    return names, has_kwargs


def check_args(fn: Callable, what: str, allowed: Iterable[str], required: Iterable[str] = ()) -> tuple[str, ...]:
    """Validates a user function's parameter names; returns them.

    Raises:
        ValueError: naming the unexpected or missing arguments.
    """
    if not callable(fn):
        raise ValueError(f"{what} must be callable, got {type(fn).__name__}.")
    names, _ = fn_args(fn)
    # An argument with a default is the program's own (tf.estimator left it to its default).
    unexpected = [n for n in names if n not in allowed and n not in _defaulted(fn)]
    if unexpected:
        raise ValueError(
            f"{what} ({_describe(fn)}) has following not expected args: {unexpected}. "
            f"It may take any of {list(allowed)}."
        )
    missing = [n for n in required if n not in names]
    if missing:
        raise ValueError(f"{what} ({_describe(fn)}) must take argument(s) {missing}.")
    return names


def call(fn: Callable, available: dict[str, Any]) -> Any:
    """Calls `fn` with the entries of `available` that it names (all of them for **kwargs)."""
    names, has_kwargs = fn_args(fn)
    kwargs = dict(available) if has_kwargs else {n: available[n] for n in names if n in available}
    return fn(**kwargs)


def autograph_converted(fn: Callable) -> Callable:
    """`fn` converted by AutoGraph (tensor-dependent `if`/`for`/`while` become graph control
    flow, as inside `tf.function`), for a function, method or partial of one; other callables
    (objects with `__call__`) as they are. A function AutoGraph cannot convert (no source) runs
    unconverted, with a warning, as `tf.function` runs it."""
    import tensorflow as tf

    if isinstance(fn, functools.partial):
        return functools.partial(autograph_converted(fn.func), *fn.args, **fn.keywords)
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)):
        return fn
    try:
        return tf.autograph.to_graph(fn)
    except Exception as e:  # AutoGraph raises many kinds; tf.function also falls back.
        logger.warning("AutoGraph could not convert %s, it runs unconverted: %s", _describe(fn), e)
        return fn


def _defaulted(fn: Callable) -> set[str]:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in parameters if p.default is not p.empty}


def _describe(fn: Callable) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return name
