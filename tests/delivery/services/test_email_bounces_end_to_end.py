"""Bounces after SMTP acceptance, end to end: an email campaign goes through the SMTP gateway to a local aiosmtpd
server, which accepts every email (delivered); a delivery status notification (RFC 3464) is then sent with smtplib
to `manage.py receive_bounces`, as a receiving domain's mail server would."""

import smtplib

import pytest
from django.core.management import CommandError, call_command

from delivery.gateways.email import bounce_address_message_id
from delivery.models import GatewayConfig, GatewayExchange, Message
from tests.delivery.helpers import assert_shown, statuses
from tests.delivery.services.bounce_notices import SLOTS, gmail_dsn, postfix_dsn
from tests.helpers import BOUNCE_DOMAIN
from tests.local_peers import free_port

# --- local peers ---------------------------------------------------------------------------------------------------


def send_bounce(port: int, to: str, dsn: str) -> tuple[int, bytes]:
    """Deliver a DSN as a mail server does (null sender); returns the server's answer to the data."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo("mx1.acme.test")
        smtp.mail("")
        code, text = smtp.rcpt(to)
        if code != 250:
            return code, text
        return smtp.data(dsn)


@pytest.fixture
def emailed(smtp_peer, bounce_domain, org, email_template, email_customers, send_campaign):
    """An email campaign sent through the SMTP gateway, every email accepted; returns (campaign, received)."""
    port, mailbox = smtp_peer
    GatewayConfig.objects.create(
        org=org,
        channel="email",
        kind=GatewayConfig.Kind.EMAIL,
        settings={"host": "127.0.0.1", "port": port, "from_email": "news@acme.test"},
    )
    campaign = send_campaign(use_template=email_template, slot_values=SLOTS)
    assert statuses(campaign) == {"delivered": 4}
    received = {to[0]: (sender, content.replace("\r\n", "\n")) for sender, to, content in mailbox.received}
    return campaign, received


# --- end to end: SMTP gateway, then a bounce through receive_bounces -------------------------------------------------

e2e = pytest.mark.django_db(transaction=True)  # the bounce server applies bounces from its own thread


@e2e
def test_hard_bounce_after_acceptance_turns_delivered_into_mailbox_unavailable_on_view_details(
    emailed, bounce_server, client, manager
):
    # given an email campaign whose four emails the receiving server accepted (delivered)
    campaign, received = emailed
    return_path, original = received["asha@acme.test"]

    # when asha's mail server later bounces it: 5.1.1, no such user
    code, answer = send_bounce(
        bounce_server, return_path, postfix_dsn(to=return_path, recipient="asha@acme.test", original=original)
    )

    # then the email is not delivered, mailbox unavailable, with the DSN status kept as the gateway error
    assert code == 250, answer
    asha = Message.objects.get(campaign=campaign, recipient="asha@acme.test")
    assert (asha.status, asha.reason_code, asha.gateway_error) == (
        "not_delivered",
        "email_mailbox_unavailable",
        "DSN:5.1.1",
    )
    assert statuses(campaign) == {"delivered": 3, "not_delivered:email_mailbox_unavailable": 1}
    # and the bounce is in the email's gateway log, after the submit
    log = list(GatewayExchange.objects.filter(message=asha).order_by("created_at", "pk"))
    assert [e.operation for e in log] == ["submit", "receipt"]
    assert "Status: 5.1.1" in log[1].request and "not delivered (email_mailbox_unavailable)" in log[1].response
    # and View Details explains it, at 25% of the campaign
    client.force_login(manager)
    assert_shown(client, campaign, "email_mailbox_unavailable", 1, total=4)


@e2e
def test_bounce_of_an_invalid_address_is_applied_once_and_a_repeat_changes_nothing(emailed, bounce_server):
    campaign, received = emailed
    return_path, original = received["ravi@acme.test"]
    dsn = gmail_dsn(to=return_path, recipient="ravi@acme.test", original=original, status="5.1.3")

    first = send_bounce(bounce_server, return_path, dsn)
    repeated = send_bounce(bounce_server, return_path, dsn)
    later_other = send_bounce(
        bounce_server, return_path, postfix_dsn(to=return_path, recipient="ravi@acme.test", original=original)
    )

    assert first[0] == repeated[0] == later_other[0] == 250
    assert b"no change" in repeated[1] and b"no change" in later_other[1]
    ravi = Message.objects.get(campaign=campaign, recipient="ravi@acme.test")
    assert (ravi.status, ravi.reason_code, ravi.gateway_error) == (
        "not_delivered",
        "email_invalid_address",
        "DSN:5.1.3",
    )
    assert statuses(campaign) == {"delivered": 3, "not_delivered:email_invalid_address": 1}
    assert GatewayExchange.objects.filter(message=ravi, operation="receipt").count() == 3


@e2e
def test_a_delayed_notice_changes_nothing(emailed, bounce_server):
    campaign, received = emailed
    return_path, original = received["meena@acme.test"]
    delayed = postfix_dsn(
        to=return_path,
        recipient="meena@acme.test",
        original=original,
        action="delayed",
        status="4.4.1",
        diagnostic="X-Postfix; connect to mail.acme.test[10.0.0.5]:25: Connection timed out",
    )

    code, answer = send_bounce(bounce_server, return_path, delayed)

    assert code == 250, answer
    assert statuses(campaign) == {"delivered": 4}
    meena = Message.objects.get(campaign=campaign, recipient="meena@acme.test")
    assert GatewayExchange.objects.get(message=meena, operation="receipt").response == "delayed 4.4.1: no change"


@e2e
def test_forged_or_unsigned_bounce_addresses_are_refused_at_the_recipient(emailed, bounce_server):
    campaign, received = emailed
    return_path, original = received["kabir@acme.test"]
    message_id = bounce_address_message_id(return_path, domain=BOUNCE_DOMAIN)
    other_message_signature = received["asha@acme.test"][0].split(".", 1)[1].split("@")[0]
    forged = [
        f"bounces+{message_id}.0123456789abcdef@{BOUNCE_DOMAIN}",  # made-up signature
        f"bounces+{message_id}.{other_message_signature}@{BOUNCE_DOMAIN}",  # another email's signature
        f"bounces+{message_id}@{BOUNCE_DOMAIN}",  # unsigned
        f"bounces@{BOUNCE_DOMAIN}",
        f"postmaster@{BOUNCE_DOMAIN}",
        return_path.replace(BOUNCE_DOMAIN, "acme.test"),  # a signed address of another domain
    ]

    answers = [
        send_bounce(bounce_server, address, postfix_dsn(to=address, recipient="kabir@acme.test", original=original))
        for address in forged
    ]

    assert [code for code, _ in answers] == [550] * len(forged)
    assert all(b"no such bounce address" in text for _, text in answers)
    assert statuses(campaign) == {"delivered": 4}
    assert not GatewayExchange.objects.filter(operation="receipt").exists()


@e2e
def test_a_message_that_is_not_a_delivery_status_notification_is_refused(emailed, bounce_server):
    campaign, received = emailed
    return_path, original = received["asha@acme.test"]
    out_of_office = (
        f"From: asha@acme.test\nTo: {return_path}\nSubject: Out of office\nAuto-Submitted: auto-replied\n\n"
        "I am away until Monday; your mail to asha@acme.test failed? Status: 5.1.1\n"
    )
    truncated = postfix_dsn(to=return_path, recipient="asha@acme.test", original=original).split("Action:")[0]

    answers = [send_bounce(bounce_server, return_path, body) for body in (out_of_office, truncated)]

    assert [code for code, _ in answers] == [550, 550]
    assert b"not a delivery status notification" in answers[0][1]
    assert b"no known Action" in answers[1][1]
    assert statuses(campaign) == {"delivered": 4}
    asha = Message.objects.get(campaign=campaign, recipient="asha@acme.test")
    refusals = GatewayExchange.objects.filter(message=asha, operation="receipt").order_by("pk")
    assert [e.error.split(":")[0] for e in refusals] == ["bounce refused", "bounce refused"]


def test_receive_bounces_refuses_to_start_without_a_bounce_domain(settings):
    settings.EMAIL_BOUNCE_DOMAIN = ""
    with pytest.raises(CommandError, match="Set EMAIL_BOUNCE_DOMAIN"):
        call_command("receive_bounces", host="127.0.0.1", port=free_port())
