"""The email adapter through Django's SMTP backend against a real local SMTP server (aiosmtpd)."""

import email

import pytest
from django.core import mail

from campaigns.models import Customer, Template
from delivery.gateways.email import bounce_address
from delivery.models import GatewayConfig, GatewayExchange, Message
from tests.delivery.helpers import assert_shown, statuses
from tests.local_peers import RefusingMailbox, free_port, running_mail_server


@pytest.fixture
def smtp_server():
    mailbox = RefusingMailbox()
    with running_mail_server(mailbox) as port:
        yield port, mailbox


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(
        org=org,
        name="Newsletter",
        channel="email",
        subject="News for {#var#}",
        body="Hello {#var#}, read more: {#var#}",
        html_body="<p>Hello</p>",
    )


@pytest.fixture
def email_customers(org) -> list[Customer]:
    addresses = ["asha@acme.test", "nobody@acme.test", "bad.address@acme.test", "ravi@acme.test"]
    return [
        Customer.objects.create(org=org, name=f"Reader {n}", email=address, external_id=f"E{n}")
        for n, address in enumerate(addresses)
    ]


def test_smtp_refusals_become_mailbox_unavailable_and_invalid_address_shown_on_view_details(
    smtp_server, org, email_template, email_customers, send_campaign, client, manager
):
    # given an org whose email goes through an SMTP server that refuses two of four recipients
    port, mailbox = smtp_server
    GatewayConfig.objects.create(
        org=org,
        channel="email",
        kind=GatewayConfig.Kind.EMAIL,
        settings={"host": "127.0.0.1", "port": port, "from_email": "news@acme.test"},
    )

    # when an email campaign is sent
    campaign = send_campaign(
        use_template=email_template,
        slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/news"}],
    )

    # then the accepted two are delivered and the refused ones carry the email reasons with the SMTP code
    assert statuses(campaign) == {
        "delivered": 2,
        "not_delivered:email_mailbox_unavailable": 1,
        "not_delivered:email_invalid_address": 1,
    }
    assert sorted(to[0] for _, to, _ in mailbox.received) == ["asha@acme.test", "ravi@acme.test"]
    assert all(sender == "news@acme.test" for sender, _, _ in mailbox.received)
    refused = Message.objects.get(campaign=campaign, recipient="nobody@acme.test")
    assert refused.gateway_error == "SMTP:550"
    assert "User unknown" in GatewayExchange.objects.get(message=refused).response
    # and View Details explains each, at 25% of the campaign
    client.force_login(manager)
    assert_shown(client, campaign, "email_mailbox_unavailable", 1, total=4)
    assert_shown(client, campaign, "email_invalid_address", 1, total=4)


def test_an_unreachable_smtp_server_leaves_the_emails_not_sent(org, email_template, email_customers, send_campaign):
    GatewayConfig.objects.create(
        org=org,
        channel="email",
        kind=GatewayConfig.Kind.EMAIL,
        settings={"host": "127.0.0.1", "port": free_port(), "timeout": 2},
    )
    campaign = send_campaign(
        use_template=email_template,
        slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/news"}],
    )
    assert statuses(campaign) == {"not_sent:gateway_submit_failed": 4}


def test_without_configuration_email_goes_to_the_local_outbox(org, email_template, email_customers, send_campaign):
    campaign = send_campaign(
        use_template=email_template,
        slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/news"}],
    )
    assert statuses(campaign) == {"delivered": 4}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in email_customers)
    assert mail.outbox[0].subject.startswith("News for")


def test_with_a_bounce_domain_each_email_has_its_own_signed_return_path_and_the_same_from(
    smtp_server, org, email_template, email_customers, send_campaign, settings
):
    # given a bounce domain
    settings.EMAIL_BOUNCE_DOMAIN = "bounces.acme.test"
    port, mailbox = smtp_server
    GatewayConfig.objects.create(
        org=org,
        channel="email",
        kind=GatewayConfig.Kind.EMAIL,
        settings={"host": "127.0.0.1", "port": port, "from_email": "news@acme.test"},
    )

    # when an email campaign is sent
    campaign = send_campaign(
        use_template=email_template,
        slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/news"}],
    )

    # then each accepted email went out with the return path of its own message, From and Message-ID as before
    assert len(mailbox.received) == 2
    for envelope_sender, to, content in mailbox.received:
        message = Message.objects.get(campaign=campaign, recipient=to[0])
        assert envelope_sender == bounce_address(message_id=message.pk, domain="bounces.acme.test")
        headers = email.message_from_string(content)
        assert headers["From"] == "news@acme.test"
        assert headers["Message-ID"] == message.gateway_message_id
        assert f"MAIL FROM:<{envelope_sender}>" in GatewayExchange.objects.get(message=message).request
    # and the refused recipients keep their reasons
    assert statuses(campaign) == {
        "delivered": 2,
        "not_delivered:email_mailbox_unavailable": 1,
        "not_delivered:email_invalid_address": 1,
    }
