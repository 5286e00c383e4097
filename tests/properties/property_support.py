"""Shared by the property tests: running a property against a deliberately broken variant."""

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st


def assert_catches(check, strategies, max_examples=40):
    """Asserts hypothesis finds a counterexample to `check(*drawn)` over `strategies` (a list):
    the property really guards what it claims. Derandomized, so the outcome is reproducible;
    no shrinking, since only whether a counterexample exists matters here."""

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate])
    @given(st.tuples(*strategies))
    def run(drawn):
        check(*drawn)

    with pytest.raises(AssertionError):
        run()
