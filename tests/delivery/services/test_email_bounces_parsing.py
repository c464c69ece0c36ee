"""Reading delivery status notifications as Postfix, Gmail and Exchange write them, and the reason each gives."""

import pytest

from delivery.gateways.email import email_reason_for_status
from delivery.services.bounces import BounceRefused, bounce_outcome, bounce_parse
from tests.delivery.services.bounce_notices import exchange_dsn, gmail_dsn, original_email, postfix_dsn

# --- parsing --------------------------------------------------------------------------------------------------------


def test_postfix_bounce_is_read_with_its_recipient_action_status_and_original_message_id():
    raw = postfix_dsn(to="bounces+7.x@b.test", recipient="Asha@Acme.test", original=original_email("<9.8.7@acme.test>"))

    report = bounce_parse(raw.encode())

    assert report.reporting_mta == "mx1.acme.test"
    assert report.original_message_id == "<9.8.7@acme.test>"
    [recipient] = report.recipients
    assert (recipient.final_recipient, recipient.action, recipient.status) == ("asha@acme.test", "failed", "5.1.1")
    assert recipient.diagnostic.startswith("smtp; 550 5.1.1 <Asha@Acme.test>: Recipient address rejected: User")


def test_gmail_bounce_returning_the_whole_email_is_read():
    report = bounce_parse(gmail_dsn(to="b@b.test", recipient="asha@acme.test", original=original_email()).encode())

    assert report.original_message_id == "<176.1.2@acme.test>"
    assert [(r.action, r.status) for r in report.recipients] == [("failed", "5.1.1")]


def test_exchange_bounce_is_read():
    report = bounce_parse(exchange_dsn(to="b@b.test", recipient="asha@acme.test", original=original_email()).encode())

    assert report.reporting_mta == "AM0PR01MB1234.eurprd01.prod.exchangelabs.com"
    assert report.original_message_id == "<176.1.2@acme.test>"
    assert report.report_for("ASHA@acme.test").status == "5.1.10"


@pytest.mark.parametrize(
    ("action", "status", "outcome"),
    [
        ("failed", "5.1.1", ("email_mailbox_unavailable", "DSN:5.1.1")),  # no such user
        ("failed", "5.1.2", ("email_invalid_address", "DSN:5.1.2")),  # no such domain: a typo in the address
        ("failed", "5.1.3", ("email_invalid_address", "DSN:5.1.3")),  # bad address syntax
        ("failed", "5.1.10", ("email_mailbox_unavailable", "DSN:5.1.10")),  # Microsoft: recipient not found
        ("failed", "5.2.2", ("email_mailbox_unavailable", "DSN:5.2.2")),  # mailbox full
        ("failed", "5.2.1", ("email_mailbox_unavailable", "DSN:5.2.1")),  # mailbox disabled
        ("failed", "5.7.1", ("email_mailbox_unavailable", "DSN:5.7.1")),  # refused by policy
        ("failed", "4.4.7", ("gateway_failed", "DSN:4.4.7")),  # gave up retrying
        ("delayed", "4.4.1", None),
        ("delivered", "2.0.0", None),
        ("relayed", "2.0.0", None),
    ],
)
def test_action_and_status_give_the_reason(action, status, outcome):
    raw = postfix_dsn(
        to="b@b.test", recipient="asha@acme.test", original=original_email(), action=action, status=status
    )

    assert bounce_outcome(bounce_parse(raw.encode()).recipients[0]) == outcome


def test_smtp_refusal_text_gives_the_same_reasons_as_bounces():
    assert (
        email_reason_for_status("5.1.1 <nobody@acme.test>: Recipient address rejected") == "email_mailbox_unavailable"
    )
    assert email_reason_for_status("5.1.2 Domain gmial.com not found") == "email_invalid_address"
    assert email_reason_for_status("Recipient rejected by 10.5.1.3 filter") == "email_mailbox_unavailable"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "not a delivery status notification"),
        (b"\xff\xfe\x00garbage\r\n\r\n\x00", "not a delivery status notification"),
        (original_email().encode(), "not a delivery status notification"),
        (  # a read receipt (MDN) is a report, not a delivery status notification
            b"Content-Type: multipart/report; report-type=disposition-notification; boundary=b\n\n--b\n"
            b"Content-Type: message/disposition-notification\n\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n",
            "not a delivery status notification",
        ),
        (
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nFailed.\n--b--\n",
            "no delivery-status part",
        ),
        (
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\n"
            b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.test\n--b--\n",
            "no recipient block",
        ),
        (
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\n"
            b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.test\n\n"
            b"Final-Recipient: rfc822; a@acme.test\nAction: failed\nStatus: soon\n--b--\n",
            "no valid Status",
        ),
        (
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\n"
            b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.test\n\n"
            b"Final-Recipient: rfc822; a@acme.test\nAction: bounced\nStatus: 5.1.1\n--b--\n",
            "no known Action",
        ),
    ],
)
def test_malformed_or_unknown_bounces_are_refused_with_a_reason(raw, why):
    with pytest.raises(BounceRefused, match=why):
        bounce_parse(raw)
