"""Fixtures of the campaign lifecycle tests."""

import pytest

from campaigns.models import Campaign, Org, User
from tests.campaigns.lifecycle.approvals import PUBLIC
from tests.factories import PASSWORD, MembershipFactory, UserFactory, create_campaign


@pytest.fixture
def _approval_public_base_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC + "/"


@pytest.fixture
def approving(org) -> Org:
    Org.objects.filter(pk=org.pk).update(launch_needs_approval=True)
    org.refresh_from_db()
    return org


@pytest.fixture
def colleague(org) -> User:
    """A second member of the org, who has joined (has a password)."""
    user = UserFactory(email="colleague@acme.test", password=PASSWORD)
    MembershipFactory(user=user, org=org)
    return user


@pytest.fixture
def campaign(template, manager, customers) -> Campaign:
    return create_campaign(template, manager, name="Diwali sale")
