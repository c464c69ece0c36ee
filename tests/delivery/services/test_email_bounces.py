"""Bounces after SMTP acceptance: delivery status notifications (RFC 3464) received by `manage.py receive_bounces`.

End to end: an email campaign goes through the SMTP gateway to a local aiosmtpd server, which accepts every email
(delivered); a DSN is then sent with smtplib to the bounce server, as a receiving domain's mail server would.
"""

import smtplib

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from campaigns.models import Customer, Template
from delivery.gateways.email import bounce_address, bounce_address_message_id, email_reason_for_status
from delivery.models import GatewayConfig, GatewayExchange, Message
from delivery.services.bounces import BounceDeferred, BounceRefused, bounce_apply, bounce_outcome, bounce_parse
from tests.delivery.helpers import assert_shown, statuses
from tests.helpers import BOUNCE_DOMAIN
from tests.local_peers import free_port

SLOTS = [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/news"}]
ADDRESSES = ["asha@acme.test", "ravi@acme.test", "meena@acme.test", "kabir@acme.test"]


# --- realistic notifications -------------------------------------------------------------------------------------


def postfix_dsn(*, to: str, recipient: str, original: str, action="failed", status="5.1.1", diagnostic="") -> str:
    """As Postfix writes it: text/plain, message/delivery-status, text/rfc822-headers."""
    diagnostic = diagnostic or (
        f"smtp; 550 {status} <{recipient}>: Recipient address rejected:\n    User unknown in virtual mailbox table"
    )
    subject = "Undelivered Mail Returned to Sender" if action == "failed" else "Delayed Mail (still being retried)"
    retry = "Will-Retry-Until: Thu, 26 Nov 2026 18:11:58 +0530 (IST)\n" if action == "delayed" else ""
    return f"""Return-Path: <>
Date: Mon, 23 Nov 2026 18:12:01 +0530 (IST)
From: MAILER-DAEMON@mx1.acme.test (Mail Delivery System)
Subject: {subject}
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3F1A22C0A1.1763901121/mx1.acme.test"
Content-Transfer-Encoding: 7bit
Message-Id: <20261123124201.0B1A22C0A2@mx1.acme.test>

This is a MIME-encapsulated message.

--3F1A22C0A1.1763901121/mx1.acme.test
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.acme.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{recipient}>: host mail.acme.test[10.0.0.5] said: {diagnostic.partition("; ")[2]}

--3F1A22C0A1.1763901121/mx1.acme.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.acme.test
X-Postfix-Queue-ID: 3F1A22C0A1
X-Postfix-Sender: rfc822; {to}
Arrival-Date: Mon, 23 Nov 2026 18:11:58 +0530 (IST)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.acme.test
Diagnostic-Code: {diagnostic}
{retry}
--3F1A22C0A1.1763901121/mx1.acme.test
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

{_headers_of(original)}

--3F1A22C0A1.1763901121/mx1.acme.test--
"""


def gmail_dsn(*, to: str, recipient: str, original: str, status="5.1.1") -> str:
    """Like Gmail's "Delivery Status Notification (Failure)": an HTML part, the whole email returned."""
    return f"""Delivered-To: {to}
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {to}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Failure)
Message-ID: <6741a2b1.050a0220.3c1e.9f2bSMTPIN_ADDED_MISSING@mx.google.com>
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1b2c3d4e5f60718"; report-type=delivery-status

--000000000000a1b2c3d4e5f60718
Content-Type: multipart/related; boundary="000000000000a1b2c3d4e5f60719"

--000000000000a1b2c3d4e5f60719
Content-Type: text/html; charset="UTF-8"

<html><body><h2>Address not found</h2><p>Your message wasn't delivered to <b>{recipient}</b> because the
address couldn't be found, or is unable to receive mail.</p></body></html>

--000000000000a1b2c3d4e5f60719--

--000000000000a1b2c3d4e5f60718
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; mail-sor-f41.google.com
Arrival-Date: Mon, 23 Nov 2026 04:42:01 -0800 (PST)

Final-Recipient: rfc822; {recipient}
Action: failed
Status: {status}
Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.4.27, the server for the domain acme.test.)
Diagnostic-Code: smtp; 550-{status} The email account that you tried to reach does not exist. Please try
 550-{status} double-checking the recipient's email address for typos or 550 {status}
 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser d2e1a72fcca58-72a8f0d3c1bsi123456b3a.91 - gsmtp
Last-Attempt-Date: Mon, 23 Nov 2026 04:42:02 -0800 (PST)

--000000000000a1b2c3d4e5f60718
Content-Type: message/rfc822

{original}
--000000000000a1b2c3d4e5f60718--
"""


def exchange_dsn(*, to: str, recipient: str, original: str, status="5.1.10") -> str:
    """Like Exchange Online's "Undeliverable:" report: alternative text and HTML, headers returned."""
    return f"""From: Microsoft Outlook <postmaster@outlook.com>
To: {to}
Subject: Undeliverable: News for you
Date: Mon, 23 Nov 2026 12:42:03 +0000
Message-ID: <c4f1e2a9-7b3d-4e55-9a0c-2f6d8e1b7a43@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>
Auto-Submitted: auto-replied
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_"

--_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: multipart/alternative;
\tboundary="_002_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_"

--_002_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: text/plain; charset="us-ascii"

Your message to {recipient} couldn't be delivered.
{recipient.partition("@")[0]} wasn't found at {recipient.partition("@")[2]}.

--_002_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to {recipient} couldn't be delivered.</p></body></html>

--_002_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_--

--_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;mx1.acme.test
Arrival-Date: Mon, 23 Nov 2026 12:42:01 +0000

Original-Recipient: rfc822;{recipient}
Final-Recipient: rfc822;{recipient}
Action: failed
Status: {status}
Diagnostic-Code: smtp;550 {status} RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup
X-Display-Name: {recipient}

--_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_
Content-Type: text/rfc822-headers

{_headers_of(original)}

--_000_c4f1e2a97b3d4e559a0c2f6d8e1b7a43AM0PR01MB1234eurprd01_--
"""


def _headers_of(email_text: str) -> str:
    return email_text.replace("\r\n", "\n").split("\n\n", 1)[0]


def original_email(message_id: str = "<176.1.2@acme.test>", recipient: str = "asha@acme.test") -> str:
    return (
        f"Subject: News for Asha\nFrom: news@acme.test\nTo: {recipient}\nMessage-ID: {message_id}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain\n\nHello Asha, read more: s.acme.test/AB12CD34EF\n"
    )


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


@pytest.fixture
def emailed(smtp_peer, bounce_domain, org, email_template, email_customers, send_campaign):
    """An email campaign sent through the SMTP gateway, every email accepted; returns (campaign, received)."""
    controller, mailbox = smtp_peer
    GatewayConfig.objects.create(
        org=org,
        channel="email",
        kind=GatewayConfig.Kind.EMAIL,
        settings={"host": "127.0.0.1", "port": controller.port, "from_email": "news@acme.test"},
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


# --- applying a bounce (embedded outbox, no servers) -----------------------------------------------------------------


@pytest.fixture
def outboxed(bounce_domain, org, email_template, email_customers, send_campaign):
    """An email campaign through the local outbox; returns (campaign, {recipient: (return path, Message-ID)})."""
    campaign = send_campaign(use_template=email_template, slot_values=SLOTS)
    return campaign, {m.to[0]: (m.from_email, m.extra_headers["Message-ID"]) for m in mail.outbox}


def test_each_email_gets_its_own_signed_return_path_and_keeps_its_from_and_message_id(outboxed):
    campaign, sent = outboxed

    for message in Message.objects.filter(campaign=campaign):
        return_path, message_id = sent[message.recipient]
        assert return_path == bounce_address(message_id=message.pk, domain=BOUNCE_DOMAIN)
        assert bounce_address_message_id(return_path.upper(), domain=BOUNCE_DOMAIN) == message.pk
        assert len(return_path.partition("@")[0]) <= 64
        assert message.gateway_message_id == message_id
    assert {m.message()["From"] for m in mail.outbox} == {"campaigns@linktrack.localhost"}


def test_return_paths_signed_before_a_secret_key_rotation_stay_valid(settings):
    path = bounce_address(message_id=42, domain=BOUNCE_DOMAIN)

    settings.SECRET_KEY_FALLBACKS, settings.SECRET_KEY = [settings.SECRET_KEY], "a-new-secret-key-after-rotation"
    kept = bounce_address_message_id(path, domain=BOUNCE_DOMAIN)
    settings.SECRET_KEY_FALLBACKS = []
    dropped = bounce_address_message_id(path, domain=BOUNCE_DOMAIN)

    assert (kept, dropped) == (42, None)


def test_gmail_and_exchange_bounces_are_applied_with_their_status(outboxed):
    campaign, sent = outboxed
    asha_path, asha_id = sent["asha@acme.test"]
    ravi_path, ravi_id = sent["ravi@acme.test"]

    bounce_apply(
        raw=gmail_dsn(to=asha_path, recipient="asha@acme.test", original=original_email(asha_id)).encode(),
        envelope_recipient=asha_path,
    )
    bounce_apply(
        raw=exchange_dsn(
            to=ravi_path, recipient="ravi@acme.test", original=original_email(ravi_id, "ravi@acme.test")
        ).encode(),
        envelope_recipient=ravi_path,
    )

    errors = dict(
        Message.objects.filter(campaign=campaign, status="not_delivered").values_list("recipient", "gateway_error")
    )
    assert errors == {"asha@acme.test": "DSN:5.1.1", "ravi@acme.test": "DSN:5.1.10"}
    assert statuses(campaign) == {"delivered": 2, "not_delivered:email_mailbox_unavailable": 2}


def test_a_sending_server_that_gave_up_retrying_makes_the_email_not_delivered_and_resendable(outboxed):
    campaign, sent = outboxed
    path, message_id = sent["meena@acme.test"]
    expired = postfix_dsn(
        to=path, recipient="meena@acme.test", original=original_email(message_id, "meena@acme.test"),
        status="4.4.7", diagnostic="X-Postfix; delivery time expired",
    )  # fmt: skip

    bounce_apply(raw=expired.encode(), envelope_recipient=path)

    assert statuses(campaign) == {"delivered": 3, "not_delivered:gateway_failed": 1}


def test_a_bounce_quoting_another_emails_message_id_is_refused(outboxed):
    campaign, sent = outboxed
    path, _ = sent["asha@acme.test"]
    _, ravi_id = sent["ravi@acme.test"]
    dsn = postfix_dsn(to=path, recipient="asha@acme.test", original=original_email(ravi_id))

    with pytest.raises(BounceRefused, match="quotes another email"):
        bounce_apply(raw=dsn.encode(), envelope_recipient=path)

    assert statuses(campaign) == {"delivered": 4}


def test_a_report_about_other_recipients_only_is_refused(outboxed):
    campaign, sent = outboxed
    path, message_id = sent["asha@acme.test"]
    dsn = postfix_dsn(to=path, recipient="someone@else.test", original=original_email(message_id))
    two_others = dsn.replace(
        "Final-Recipient: rfc822; someone@else.test",
        "Final-Recipient: rfc822; third@else.test\nAction: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; someone@else.test",
    )

    with pytest.raises(BounceRefused, match=r"does not say what happened to asha@acme\.test"):
        bounce_apply(raw=two_others.encode(), envelope_recipient=path)

    assert statuses(campaign) == {"delivered": 4}


def test_a_forwarded_address_failing_is_the_emails_bounce_when_it_is_the_only_recipient(outboxed):
    campaign, sent = outboxed
    path, message_id = sent["asha@acme.test"]
    dsn = postfix_dsn(to=path, recipient="asha.old@forwarded.test", original=original_email(message_id))

    bounce_apply(raw=dsn.encode(), envelope_recipient=path)

    assert statuses(campaign) == {"delivered": 3, "not_delivered:email_mailbox_unavailable": 1}


def test_a_bounce_for_an_email_still_being_handed_over_is_deferred(outboxed):
    campaign, sent = outboxed
    path, message_id = sent["asha@acme.test"]
    Message.objects.filter(campaign=campaign, recipient="asha@acme.test").update(status="submitting")

    with pytest.raises(BounceDeferred):
        bounce_apply(
            raw=postfix_dsn(to=path, recipient="asha@acme.test", original=original_email(message_id)).encode(),
            envelope_recipient=path,
        )

    assert statuses(campaign) == {"delivered": 3, "submitting": 1}


def test_only_email_messages_can_be_bounced(bounce_domain, send_campaign, customers):
    # given an SMS message, and a correctly signed bounce address naming it
    campaign = send_campaign()
    sms = Message.objects.filter(campaign=campaign).first()
    status_before = sms.status
    path = bounce_address(message_id=sms.pk, domain=BOUNCE_DOMAIN)

    with pytest.raises(BounceRefused, match="no email message"):
        bounce_apply(
            raw=postfix_dsn(to=path, recipient=sms.recipient, original=original_email()).encode(),
            envelope_recipient=path,
        )

    sms.refresh_from_db()
    assert sms.status == status_before


def test_a_bounce_for_a_final_state_other_than_delivered_changes_nothing(outboxed):
    campaign, sent = outboxed
    path, message_id = sent["asha@acme.test"]
    Message.objects.filter(campaign=campaign, recipient="asha@acme.test").update(status="unknown")

    result = bounce_apply(
        raw=postfix_dsn(to=path, recipient="asha@acme.test", original=original_email(message_id)).encode(),
        envelope_recipient=path,
    )

    assert not result.changed
    assert statuses(campaign) == {"delivered": 3, "unknown": 1}


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
