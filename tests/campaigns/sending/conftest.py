"""Fixtures of the sending tests."""

import pytest

from campaigns.models import Customer
from tests.campaigns.sending.link_check_site import running_site


@pytest.fixture
def site(settings):
    settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = True  # the site runs on this machine
    with running_site() as running:
        yield running


@pytest.fixture
def people(org) -> dict[str, Customer]:
    return {
        name: Customer.objects.create(org=org, name=name, mobile=f"+91981000000{n}", email=f"{name}@acme.test")
        for n, name in enumerate(("asha", "bala", "chitra"), start=1)
    }
