"""Hooks: StopAtStepHook arithmetic, RunContext stop requests, and check_hooks validation."""

import pytest

from keras_estimator import hook_list, hooks


def _context(global_step):
    return hooks.RunContext(estimator=None, mode="train", global_step=global_step)


@pytest.mark.parametrize("kwargs", [{}, {"num_steps": 5, "last_step": 20}])
def test_stop_at_step_needs_exactly_one_of_num_steps_and_last_step(kwargs):
    with pytest.raises(ValueError, match="exactly one of num_steps and last_step"):
        hooks.StopAtStepHook(**kwargs)


def test_stop_at_step_with_num_steps_counts_from_begin():
    hook = hooks.StopAtStepHook(num_steps=5)
    hook.begin(_context(10))
    assert hook.next_step(10) == 15

    context = _context(12)
    hook.after_run(context)
    assert not context.stop_requested

    context = _context(14)
    hook.after_run(context)
    assert not context.stop_requested

    context = _context(15)
    hook.after_run(context)
    assert context.stop_requested


def test_stop_at_step_requests_stop_past_the_last_step():
    hook = hooks.StopAtStepHook(num_steps=3)
    hook.begin(_context(0))
    context = _context(7)
    hook.after_run(context)
    assert context.stop_requested


def test_stop_at_step_num_steps_recomputed_on_each_begin():
    # The same hook reused for a second train() call counts from the new starting step.
    hook = hooks.StopAtStepHook(num_steps=4)
    hook.begin(_context(0))
    assert hook.next_step(0) == 4
    hook.begin(_context(4))
    assert hook.next_step(4) == 8


def test_stop_at_step_with_last_step_is_absolute():
    hook = hooks.StopAtStepHook(last_step=20)
    hook.begin(_context(10))
    assert hook.next_step(10) == 20

    context = _context(19)
    hook.after_run(context)
    assert not context.stop_requested

    context = _context(20)
    hook.after_run(context)
    assert context.stop_requested


def test_stop_at_step_last_step_already_reached_stops_at_once():
    hook = hooks.StopAtStepHook(last_step=5)
    hook.begin(_context(10))
    context = _context(10)
    hook.after_run(context)
    assert context.stop_requested


def test_run_context_fields_and_request_stop():
    context = hooks.RunContext(estimator="est", mode="eval", global_step=3)
    assert context.estimator == "est"
    assert context.mode == "eval"
    assert context.global_step == 3
    assert context.loss is None
    assert not context.stop_requested
    context.request_stop()
    assert context.stop_requested


def test_base_hook_does_nothing():
    hook = hooks.Hook()
    context = _context(0)
    hook.begin(context)
    assert hook.next_step(0) is None
    hook.after_run(context)
    hook.end(context)
    assert not context.stop_requested


def test_check_hooks_accepts_hooks_and_none():
    stop = hooks.StopAtStepHook(num_steps=1)
    plain = hooks.Hook()
    assert hooks.check_hooks([stop, plain], hooks.Hook, "hooks") == [stop, plain]
    assert hooks.check_hooks((stop,), hooks.Hook, "hooks") == [stop]
    assert hooks.check_hooks(None, hooks.Hook, "hooks") == []


@pytest.mark.parametrize("bad", [object(), "hook", lambda context: None, hooks.CheckpointSaverListener()])
def test_check_hooks_rejects_non_hooks(bad):
    with pytest.raises(ValueError, match="hooks must be Hook instances"):
        hooks.check_hooks([hooks.Hook(), bad], hooks.Hook, "hooks")


def test_check_hooks_for_saving_listeners():
    listener = hooks.CheckpointSaverListener()
    assert hooks.check_hooks([listener], hooks.CheckpointSaverListener, "saving_listeners") == [
        listener
    ]
    with pytest.raises(ValueError, match="saving_listeners must be CheckpointSaverListener"):
        hooks.check_hooks([hooks.Hook()], hooks.CheckpointSaverListener, "saving_listeners")


def test_hook_list_asks_for_the_earliest_step_any_hook_needs():
    class At(hooks.Hook):
        def __init__(self, step):
            self.step = step

        def next_step(self, global_step):
            return self.step

    fan = hook_list.HookList([At(7), At(None), At(5), At(2)])
    assert fan.next_step(3) == 5  # Steps at or before the current one are ignored.
    assert hook_list.HookList().next_step(3) is None


def test_hook_list_calls_every_hook_in_order():
    calls = []

    class Record(hooks.Hook):
        def __init__(self, name):
            self.name = name

        def begin(self, context):
            calls.append(("begin", self.name))

        def end(self, context):
            calls.append(("end", self.name))

    fan = hook_list.HookList([Record("a"), Record("b")])
    context = hooks.RunContext(None, "train", 0)
    fan.begin(context)
    fan.end(context)
    assert calls == [("begin", "a"), ("begin", "b"), ("end", "a"), ("end", "b")]
