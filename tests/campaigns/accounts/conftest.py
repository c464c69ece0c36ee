"""Fixtures of the accounts tests."""

import pytest
from django.urls import reverse

from campaigns.models import User
from tests.campaigns.accounts.helpers import PUBLIC
from tests.factories import PASSWORD, MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # every sign-in checks a password; the production hasher would make these tests slow, not safer
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def _public_address_and_fast_hashing(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    # choosing a password hashes it; the production hasher would make these tests slow, not safer
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def colleague(org, manager) -> User:
    """A member of the manager's org who has joined (has a password)."""
    user = UserFactory(email="colleague@acme.test", password=PASSWORD)
    MembershipFactory(user=user, org=org, invited_by=manager)
    return user


@pytest.fixture
def invite(as_manager, org, django_capture_on_commit_callbacks):
    """Invite an address as the manager, with the email sent as after a commit; returns the response."""

    def _invite(email: str, *, client=as_manager, into=org):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("campaigns:team-invite", args=[into.pk]), {"email": email})

    return _invite
