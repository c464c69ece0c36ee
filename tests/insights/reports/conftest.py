"""Fixtures of the Insights page tests: an email template, campaigns on both channels with clicks on two days."""

import pytest

from campaigns.models import Template
from tests.factories import make_customers
from tests.insights.reports.helpers import DAY_ONE, DAY_TWO, _hits, _sent_campaign


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(org=org, name="Newsletter", channel="email", subject="News", body="Read {#var#}")


@pytest.fixture
def two_channels(org, template, email_template):
    """Day one: SMS recipients clicking 2 and 1 times, one email recipient once (and a link preview, never counted).
    Day two: the email recipient twice more; the SMS recipient who clicked twice, once more."""
    make_customers(org, 3)
    sms_link, sms = _sent_campaign(template, "Diwali SMS", 2)
    email_link, email = _sent_campaign(email_template, "Diwali email", 1)
    _hits(sms_link, sms[0], DAY_ONE, 2)
    _hits(sms_link, sms[1], DAY_ONE)
    _hits(sms_link, sms[1], DAY_ONE, agent="WhatsApp/2.23.20.0 A")
    _hits(email_link, email[0], DAY_ONE)
    _hits(email_link, email[0], DAY_TWO, 2)
    _hits(sms_link, sms[0], DAY_TWO)
    return org
