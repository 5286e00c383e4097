"""tf.estimator's `SessionRunHook` protocol, run between the Estimator's compiled steps.

TF1 called a hook around every `session.run`: `before_run` named tensors to fetch, `after_run`
got their values. There is no session here and many steps run in one `tf.function` call, so a
`SessionRunHook` is run by `SessionRunHookAdapter`, a `Hook` that asks for every step
(`next_step`) and fetches what `before_run` names from that step: tensors model_fn created
(an `EstimatorSpec`'s hooks) or tensor names (`"softmax_tensor"`, `"loss:0"`). The `session`
arguments are None. Hooks that need not see every step (the standard ones in `basic_hooks`)
are `Hook`s of their own, asking only for the steps they act on, so the steps in between run
at full speed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import tensorflow as tf

from keras_estimator.hooks import Hook, RunContext


class SessionRunArgs(NamedTuple("SessionRunArgs", [("fetches", Any), ("feed_dict", Any), ("options", Any)])):
    """What `before_run` asks for: `fetches`, a tensor, a name, or a nested list/dict of them.

    `feed_dict` and `options` are accepted and ignored (there is nothing to feed).
    """

    def __new__(cls, fetches: Any, feed_dict: Any = None, options: Any = None) -> "SessionRunArgs":
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunValues(NamedTuple("SessionRunValues", [("results", Any), ("options", Any), ("run_metadata", Any)])):
    """What `after_run` gets: `results` has the structure of the fetches, as numpy values."""


class SessionRunContext:
    """The `run_context` of `before_run` / `after_run`.

    Args:
        original_args: The `SessionRunArgs` of the step (fetches None).
        session: Always None: there is no session in TensorFlow 2.
    """

    def __init__(self, original_args: SessionRunArgs | None = None, session: Any = None):
        self.original_args = original_args or SessionRunArgs(None)
        self.session = session
        self._stop = False

    def request_stop(self) -> None:
        """Ends training after this step (a final checkpoint is still saved)."""
        self._stop = True

    @property
    def stop_requested(self) -> bool:
        """True once `request_stop` was called."""
        return self._stop


class SessionRunHook:
    """Base class of tf.estimator-style hooks: override what you need."""

    def begin(self) -> None:
        """Called once before training (or evaluation, prediction) starts."""

    def after_create_session(self, session: Any, coord: Any) -> None:
        """Called once after `begin`; `session` and `coord` are None."""

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Called before each step; returns what to fetch from it, or None."""
        return None

    def after_run(self, run_context: SessionRunContext, run_values: SessionRunValues) -> None:
        """Called after each step with the values of what `before_run` asked for."""

    def end(self, session: Any) -> None:
        """Called once at the end; `session` is None."""


def is_session_run_hook(obj: Any) -> bool:
    """A TF1-protocol hook: ours, or any object with `before_run` and `after_run`."""
    return not isinstance(obj, Hook) and callable(getattr(obj, "before_run", None)) \
        and callable(getattr(obj, "after_run", None))


def fetch_names(fetches: Any) -> list[str]:
    """The tensor names in a fetches structure (tensors of a model_fn trace, or names)."""
    return [tensor_name(f) for f in tf.nest.flatten(fetches)]


def tensor_name(fetch: Any) -> str:
    """`"name:0"` for a tensor, an op or a name given with or without its output index."""
    if isinstance(fetch, str):
        return fetch if ":" in fetch else f"{fetch}:0"
    if isinstance(fetch, tf.Operation):
        return f"{fetch.name}:0"
    name = getattr(fetch, "name", None)
    if not isinstance(name, str):
        raise ValueError(f"A hook asked to fetch {fetch!r}: give a tensor model_fn created, or its name.")
    return name


class SessionRunHookAdapter(Hook):
    """Runs a `SessionRunHook` as a `Hook`: every step, with its fetches from that step.

    Args:
        hook: The `SessionRunHook` (or any object with its methods).
    """

    def __init__(self, hook: Any):
        self.hook = hook
        self._run_context: SessionRunContext | None = None
        self._fetches: Any = None

    def begin(self, context: RunContext) -> None:
        self.hook.begin()
        if hasattr(self.hook, "after_create_session"):
            self.hook.after_create_session(None, None)

    def next_step(self, global_step: int) -> int | None:
        return global_step + 1

    def fetches(self, global_step: int) -> list[str] | None:
        self._run_context = SessionRunContext()
        args = self.hook.before_run(self._run_context)
        self._fetches = args.fetches if args is not None else None
        return fetch_names(self._fetches) if self._fetches is not None else None

    def after_run(self, context: RunContext) -> None:
        run_context = self._run_context or SessionRunContext()
        results = None
        if self._fetches is not None and context.fetched is not None:
            results = tf.nest.pack_sequence_as(self._fetches, list(context.fetched or ()))
        self.hook.after_run(run_context, SessionRunValues(results, None, None))
        self._run_context = None
        if run_context.stop_requested:
            context.request_stop()

    def end(self, context: RunContext) -> None:
        self.hook.end(None)
