"""Fixtures of the customers tests."""

import pytest

from tests.campaigns.customers.behaviour import History


@pytest.fixture
def history(org) -> History:
    return History(org)
