"""`HookList`: fans each event out to a call's hooks, as Keras's CallbackList does.

It also takes tf.estimator-style `SessionRunHook`s (wrapped in `SessionRunHookAdapter`) and
gathers what hooks want fetched from the step a loop ends at.
"""

from __future__ import annotations

from typing import Any, Iterable

from keras_estimator.hooks import Hook, RunContext
from keras_estimator.session_run_hook import SessionRunHookAdapter, is_session_run_hook, tensor_name


def as_hooks(hooks: Iterable[Any] | None, what: str = "hooks") -> list[Hook]:
    """`Hook`s, with `SessionRunHook`s wrapped to run as hooks.

    Raises:
        ValueError: for an item that is neither (or a single hook given instead of a list).
    """
    if hooks is not None and not isinstance(hooks, Iterable):
        raise ValueError(f"{what} must be a list of Hook instances, got {type(hooks).__name__}.")
    checked = []
    for hook in hooks or ():
        if is_session_run_hook(hook):
            hook = SessionRunHookAdapter(hook)
        if not isinstance(hook, Hook):
            raise ValueError(f"{what} must be Hook instances, got {type(hook).__name__}.")
        checked.append(hook)
    return checked


class HookList:
    """The hooks of one call, in order.

    Args:
        hooks: `Hook` or `SessionRunHook` instances, or None.

    Raises:
        ValueError: if an item is neither.
    """

    def __init__(self, hooks: Iterable[Any] | None = None):
        self.hooks = as_hooks(hooks)
        self._requests: dict[int, list[str]] = {}
        self._fetched: dict[int, list] = {}

    def add(self, hooks: Iterable[Any]) -> None:
        """Appends hooks not in the list yet (e.g. those model_fn's EstimatorSpec names)."""
        self.hooks += [h for h in as_hooks(hooks) if h not in self.hooks]

    def begin(self, context: RunContext) -> None:
        for hook in self.hooks:
            hook.begin(context)

    def next_step(self, global_step: int) -> int | None:
        """The earliest step after `global_step` that some hook asks for, or None."""
        wanted = [int(w) for w in (h.next_step(global_step) for h in self.hooks)
                  if w is not None and w > global_step]
        return min(wanted, default=None)

    def fetches(self, global_step: int) -> list[str]:
        """The tensor names hooks want from the step ending at `global_step` (no repeats)."""
        self._requests = {i: [tensor_name(f) for f in (h.fetches(global_step) or ())]
                          for i, h in enumerate(self.hooks)}
        return sorted({name for names in self._requests.values() for name in names})

    def deliver(self, values: dict[str, Any]) -> None:
        """Hands each hook the values of its fetches for the next `after_run`."""
        self._fetched = {i: [values[n] for n in names] for i, names in self._requests.items() if names}

    def after_run(self, context: RunContext) -> None:
        for i, hook in enumerate(self.hooks):
            context.fetched = self._fetched.get(i)
            hook.after_run(context)
        context.fetched, self._fetched = None, {}

    def end(self, context: RunContext) -> None:
        for hook in self.hooks:
            hook.end(context)
