"""Fixtures of the click webhook tests: a receiver, a campaign, the org's webhook to the receiver."""

import pytest

from campaigns.models import Campaign
from insights.models import ClickWebhook
from insights.webhooks import webhook_setup
from tests.factories import dispatched_campaign
from tests.insights.webhooks.helpers import running_receiver


@pytest.fixture
def receiver():
    with running_receiver() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _receivers_on_this_machine_allowed(settings):
    # The test receiver listens on 127.0.0.1; the address checks themselves are tested with this switched off.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def campaign(template) -> Campaign:
    return dispatched_campaign(template)


@pytest.fixture
def webhook(org, manager, receiver) -> ClickWebhook:
    return webhook_setup.click_webhook_create(org=org, user=manager, url=receiver.url)
