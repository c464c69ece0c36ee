"""Fixtures of the two-step sign-in tests: the clock codes are read from, a user with two-step on."""

import pytest

from campaigns.accounts import two_step
from tests.campaigns.accounts.two_step.helpers import T0, _turn_on


@pytest.fixture
def clock(monkeypatch):
    """The clock codes and the 5-minute wait are read from, set by the test."""

    class Clock:
        now = T0 + 1.0

    monkeypatch.setattr(two_step, "_now", lambda: Clock.now)
    return Clock


@pytest.fixture
def with_two_step(manager, clock) -> tuple[str, list[str]]:
    return _turn_on(manager, clock)
