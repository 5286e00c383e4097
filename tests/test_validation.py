"""keras_estimator.validation: which values each check takes, and the messages it raises."""

import math

import numpy as np
import pytest

from keras_estimator import validation as v


@pytest.mark.parametrize("value, expected", [
    (0, True), (-3, True), (np.int64(2), True), (np.int32(2), True),
    (True, False), (np.bool_(True), False), (1.0, False), ("1", False), (None, False),
])
def test_is_int(value, expected):
    assert v.is_int(value) is expected


@pytest.mark.parametrize("value, expected", [
    (0, True), (1.5, True), (np.float32(0.5), True), (math.inf, True),
    (math.nan, False), (True, False), ("1", False), (None, False), (1j, False),
])
def test_is_number(value, expected):
    assert v.is_number(value) is expected


def test_check_int_returns_the_value_and_names_it_when_refused():
    assert v.check_int("steps", 3, 1) == 3
    assert v.check_int("steps", None, 1, optional=True) is None
    with pytest.raises(ValueError, match=r"^steps must be an integer >= 1, got 0\.$"):
        v.check_int("steps", 0, 1)
    with pytest.raises(ValueError, match=r"^steps must be an integer >= 1, got None\.$"):
        v.check_int("steps", None, 1)
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0, given True\.$"):
        v.check_int("seed", True, 0, word="given")
    with pytest.raises(ValueError, match=r"^n must be an integer >= 0, got '2'\.$"):
        v.check_int("n", "2", 0)


def test_check_number():
    assert v.check_number("rate", 0) == 0
    assert v.check_number("rate", math.inf) == math.inf
    with pytest.raises(ValueError, match=r"^rate must be a number >= 0, got -1\.$"):
        v.check_number("rate", -1)
    with pytest.raises(ValueError, match=r"^rate must be a number > 0, got 0\.$"):
        v.check_number("rate", 0, strict=True)
    with pytest.raises(ValueError, match=r"^rate must be a number >= 0.5, got nan\.$"):
        v.check_number("rate", math.nan, minimum=0.5)
    with pytest.raises(ValueError, match=r"^rate must be a number >= 0, got inf\.$"):
        v.check_number("rate", math.inf, finite=True)
    with pytest.raises(ValueError, match=r"^secs must be a positive number, given False\.$"):
        v.check_number("secs", False, strict=True, word="given", what="a positive number")


def test_check_steps_uses_tf_estimator_words():
    assert v.check_steps("steps", None) is None
    assert v.check_steps("max_steps", np.int64(5)) == 5
    for bad in (0, -1):
        with pytest.raises(ValueError, match=rf"^Must specify steps > 0, given: {bad}$"):
            v.check_steps("steps", bad)
    # Not an integer: the type is named ("3" would print as 3).
    for bad, shown in (("3", "'3' of type str"), (1.5, "1.5 of type float"), (True, "True of type bool")):
        with pytest.raises(ValueError, match=rf"^Must specify steps > 0 as an integer, given: {shown}$"):
            v.check_steps("steps", bad)


@pytest.mark.parametrize("value, expected", [
    ("trial_0", True), ("a.b-c", True), ("x", True),
    ("", False), (".", False), ("..", False), ("a/b", False), ("a b", False), (3, False), (None, False),
])
def test_is_simple_name(value, expected):
    assert v.is_simple_name(value) is expected


def test_check_instances():
    assert v.check_instances(None, int, "ids") == []
    assert v.check_instances((1, 2), int, "ids") == [1, 2]
    with pytest.raises(ValueError, match=r"^ids must be int instances, got str\.$"):
        v.check_instances([1, "2"], int, "ids")


def test_check_instances_names_a_single_object_given_instead_of_a_list():
    with pytest.raises(ValueError, match="hooks must be a list of int instances, got object"):
        v.check_instances(object(), int, "hooks")
