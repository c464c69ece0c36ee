"""Applying a bounce (the embedded outbox, no servers): signed return paths, the bounce's status as the reason, and
the bounces that are refused or deferred."""

import pytest
from django.core import mail

from delivery.gateways.email import bounce_address, bounce_address_message_id
from delivery.models import Message
from delivery.services.bounces import BounceDeferred, BounceRefused, bounce_apply
from tests.delivery.helpers import statuses
from tests.delivery.services.bounce_notices import SLOTS, exchange_dsn, gmail_dsn, original_email, postfix_dsn
from tests.helpers import BOUNCE_DOMAIN

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
