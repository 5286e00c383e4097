"""SecondOrStepTimer: tf.estimator's trigger rules, by steps and by seconds."""

import pytest

import keras_estimator as ke
from keras_estimator import timers


def test_every_steps_triggers_on_the_first_step_then_every_n():
    timer = ke.SecondOrStepTimer(every_steps=10)
    assert timer.last_triggered_step() is None
    assert timer.should_trigger_for_step(3)  # Never triggered: triggers.
    assert timer.update_last_triggered_step(3) == (None, None)
    assert timer.last_triggered_step() == 3
    assert not timer.should_trigger_for_step(3)  # Never twice for one step.
    assert not timer.should_trigger_for_step(12)
    assert timer.should_trigger_for_step(13)
    elapsed_secs, elapsed_steps = timer.update_last_triggered_step(20)
    assert elapsed_steps == 17 and elapsed_secs >= 0
    timer.reset()
    assert timer.last_triggered_step() is None and timer.should_trigger_for_step(20)


def test_every_secs_follows_the_clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(timers.time, "time", lambda: now[0])
    timer = ke.SecondOrStepTimer(every_secs=5)
    timer.update_last_triggered_step(1)
    now[0] += 4.9
    assert not timer.should_trigger_for_step(100)
    now[0] += 0.1
    assert timer.should_trigger_for_step(2)
    assert timer.update_last_triggered_step(2) == (pytest.approx(5.0), 1)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "Either every_secs or every_steps should be provided."),
    ({"every_secs": 1, "every_steps": 1}, "Can not provide both every_secs and every_steps."),
    ({"every_steps": -1}, "every_steps must be an integer >= 0"),
    ({"every_steps": 1.5}, "every_steps must be an integer"),
    ({"every_secs": "1"}, "every_secs must be a number"),
])
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ke.SecondOrStepTimer(**kwargs)
