"""Fixtures of the delivery services tests: the receiving mail server, an email template and its readers."""

import pytest

from campaigns.models import Customer, Template
from tests.delivery.services.bounce_notices import ADDRESSES
from tests.local_peers import RefusingMailbox, running_mail_server


@pytest.fixture
def smtp_peer():
    """The receiving mail server that accepts every email (a bounce comes later)."""
    mailbox = RefusingMailbox()
    with running_mail_server(mailbox) as port:
        yield port, mailbox


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(
        org=org, name="Newsletter", channel="email", subject="News for {#var#}", body="Hello {#var#}: {#var#}"
    )


@pytest.fixture
def email_customers(org) -> list[Customer]:
    return [
        Customer.objects.create(org=org, name=f"Reader {n}", email=address, external_id=f"E{n}")
        for n, address in enumerate(ADDRESSES)
    ]
