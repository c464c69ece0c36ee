"""Acceptance: every reason of the catalogue, produced through the real path (a gateway adapter against a local
peer, a receipt webhook, a dispatch check or the no-receipt sweep), is shown on View Details with its explanation,
its count and the right percentage of the campaign's messages."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.base import clock
from campaigns.models import Campaign, NdncEntry, SenderId, Template
from campaigns.sending import holds
from delivery import reasons, services
from delivery.models import Message
from tests.delivery.helpers import TOTAL, assert_shown, infobip, post_infobip, post_twilio
from tests.factories import LINK_SLOTS, SenderIdFactory, TemplateFactory, http_config


@pytest.fixture
def ctx(org, template, customers, manager, send_campaign, http_gateway, client, monkeypatch, settings):
    client.force_login(manager)
    # Inside the promotional window, so promotional campaigns are not held.
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata")))

    class Context:
        pass

    context = Context()
    context.__dict__.update(
        org=org, template=template, customers=customers, manager=manager, send=send_campaign,
        gateway=http_gateway, client=client, settings=settings,
    )  # fmt: skip
    return context


def _http_answers(ctx, answers: list[tuple], **options) -> Campaign:
    ctx.gateway.script = answers
    http_config(ctx.org, ctx.gateway.url, **{"max_retries": 0, **options})
    return ctx.send()


def _receipts(ctx, count: int, body_for, receipt_format: str = "infobip") -> Campaign:
    """Send through the HTTP gateway, then post receipts for the first `count` messages; the rest are delivered."""
    config = http_config(ctx.org, ctx.gateway.url, receipt_format=receipt_format)
    campaign = ctx.send()
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    for n, message in enumerate(messages):
        if n < count:
            body_for(config, message)
        elif receipt_format == "twilio":
            params = {"MessageSid": message.gateway_message_id, "MessageStatus": "delivered"}
            assert post_twilio(_client(), config, params).status_code == 200
        else:
            assert post_infobip(_client(), config, infobip(message.gateway_message_id, 3)).status_code == 200
    return campaign


def _infobip_failure(group_id: int, error_id: int = 0, name: str = ""):
    def post(config, message):
        response = post_infobip(_client(), config, infobip(message.gateway_message_id, group_id, error_id, name))
        assert response.status_code == 200

    return post


def _client():
    from django.test import Client

    return Client()


def _twilio_failure(status: str, error_code: str):
    def post(config, message):
        params = {"MessageSid": message.gateway_message_id, "MessageStatus": status, "ErrorCode": error_code}
        assert post_twilio(_client(), config, params).status_code == 200

    return post


def _promotional_template(ctx) -> Template:
    sender = SenderIdFactory(
        org=ctx.org, header="567890", category=SenderId.Category.PROMOTIONAL,
        dlt_entity_id="1701160000000000002", ncpr_category=2,
    )  # fmt: skip
    return TemplateFactory(
        org=ctx.org, name="Sale", sender=sender, dlt_template_id="1707160000000000009",
        body="Hi {#var#}, our sale is on: {#var#} - Acme",
    )  # fmt: skip


# --- not sent -------------------------------------------------------------------------------------------------


def produce_gateway_submit_failed(ctx):
    http_config(ctx.org, "http://127.0.0.1:9/sms")  # nothing listens there
    return ctx.send(), 10


def produce_gateway_timeout(ctx):
    return _http_answers(ctx, [("slow", 0.6)] * 2 + [("ok",)], timeout=0.2), 2


def produce_gateway_bad_response(ctx):
    return _http_answers(ctx, [("garbage",)] * 3 + [("ok",)]), 3


def produce_gateway_retries_exhausted(ctx):
    return _http_answers(ctx, [("status", 503)] * 4 + [("ok",)], max_retries=1), 2


def produce_gateway_callback_misconfigured(ctx):
    return _http_answers(ctx, [("refuse", 400, "invalid_callback")]), 10


def produce_gateway_other(ctx):
    return _http_answers(ctx, [("refuse", 403, "account_blocked")] * 1 + [("ok",)]), 1


def produce_out_of_credits(ctx):
    ctx.org.credits = 6  # one segment each: 6 messages paid, 4 not
    ctx.org.save(update_fields=["credits"])
    return ctx.send(), 4


def produce_unsubscribed(ctx):
    for customer in ctx.customers[:2]:
        customer.sms_subscribed = False
        customer.save(update_fields=["sms_subscribed"])
    return ctx.send(), 2


def produce_validation_failed(ctx):
    for n, customer in enumerate(ctx.customers[:3]):
        customer.mobile = ["12345", "", "+91 0000"][n]
        customer.save(update_fields=["mobile"])
    return ctx.send(), 3


def produce_dlt_template_mismatch(ctx):
    for customer in ctx.customers[:2]:
        customer.name = "Bartholomew Alexander Fitzgerald-Smythe"  # longer than a DLT variable may be
        customer.save(update_fields=["name"])
    return ctx.send(), 2


def produce_unusable_link(ctx):
    for n, customer in enumerate(ctx.customers):
        customer.attributes = {
            "website": ["https://b\x80d.in/", "https://é.in:99999/"][n] if n < 2 else "https://acme.in/"
        }
        customer.save(update_fields=["attributes"])
    return ctx.send(slot_values=[{"source": "field", "value": "name"}, {"source": "field", "value": "website"}]), 2


def produce_ndnc_precheck(ctx):
    promotional = _promotional_template(ctx)
    for customer in ctx.customers[:3]:
        NdncEntry.objects.create(org=ctx.org, mobile=customer.mobile, blocked_categories=[0])
    return ctx.send(use_template=promotional), 3


def produce_frequency_cap(ctx):
    # an earlier promotional campaign reached 3 customers (the others had unsubscribed then)
    promotional = _promotional_template(ctx)
    for customer in ctx.customers[3:]:
        customer.sms_subscribed = False
        customer.save(update_fields=["sms_subscribed"])
    ctx.send(name="Earlier sale", use_template=promotional)
    for customer in ctx.customers[3:]:
        customer.sms_subscribed = True
        customer.save(update_fields=["sms_subscribed"])
    # the org allows one promotional message per customer in 7 days
    ctx.org.frequency_cap_messages, ctx.org.frequency_cap_days = 1, 7
    ctx.org.save(update_fields=["frequency_cap_messages", "frequency_cap_days"])
    return ctx.send(use_template=promotional), 3


def produce_campaign_cancelled(ctx, django_capture_on_commit_callbacks):
    from campaigns.lifecycle import services as campaign_services

    campaign = campaign_services.campaign_create(
        org=ctx.org, user=ctx.manager, name="Cancelled", template=ctx.template, slot_values=LINK_SLOTS
    )
    with django_capture_on_commit_callbacks(execute=False) as launched:
        campaign_services.campaign_launch(campaign=campaign, user=ctx.manager)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        for callback in launched:
            callback()  # the dispatch: messages prepared and queued; the send tasks wait for the commit
    assert holds.campaign_stop(campaign_id=campaign.pk)
    for callback in queued:
        callback()  # the send tasks run after the cancel and find nothing left to send
    return campaign, 10


# --- not delivered --------------------------------------------------------------------------------------------


def produce_ndnc(ctx):
    return _receipts(ctx, 2, _infobip_failure(5, 0, "NDNC")), 2


def produce_dlt_entity(ctx):
    return _receipts(ctx, 1, _infobip_failure(5, 0, "DLT:601")), 1


def produce_dlt_chain(ctx):
    return _receipts(ctx, 3, _infobip_failure(5, 0, "DLT:615")), 3


def produce_dlt_sender_id(ctx):
    return _receipts(ctx, 2, _infobip_failure(5, 0, "DLT:623")), 2


def produce_dlt_template(ctx):
    return _receipts(ctx, 4, _twilio_failure("undelivered", "30007"), "twilio"), 4


def produce_undeliverable(ctx):
    return _receipts(ctx, 3, _infobip_failure(2, 27, "EC_ABSENT_SUBSCRIBER")), 3


def produce_expired(ctx):
    return _receipts(ctx, 2, _infobip_failure(4)), 2


def produce_gateway_failed(ctx):
    return _receipts(ctx, 1, _twilio_failure("failed", "30008"), "twilio"), 1


def produce_pending(ctx):
    # accepted; an intermediate receipt ("sent to the carrier") and then nothing yet
    return _receipts(ctx, 3, _twilio_failure("sent", ""), "twilio"), 3


def produce_no_receipt(ctx):
    ctx.settings.RECEIPT_WAIT_HOURS = 72
    campaign = _receipts(ctx, 2, lambda config, message: None)
    Message.objects.filter(campaign=campaign, status=Message.Status.SENT).update(
        sent_at=timezone.now() - timedelta(hours=80)
    )
    services.receipts_expire()
    return campaign, 2


# --- unknown --------------------------------------------------------------------------------------------------


def produce_operator_no_report(ctx):
    # the simulated gateway (no configuration) with a promotional, numeric sender: operators report nothing
    ctx.settings.SIMULATED_GATEWAY_MIX = "delivered:1"
    return ctx.send(use_template=_promotional_template(ctx)), 10


def produce_handover_cut_off(ctx, django_capture_on_commit_callbacks):
    # a worker that died handing 3 messages to an HTTP gateway (claimed, never recorded), found by the supervisor
    from campaigns.lifecycle import services as campaign_services
    from campaigns.sending.supervisor import campaigns_supervise

    http_config(ctx.org, ctx.gateway.url)
    ctx.settings.SUBMITTING_STALE_SECONDS = 0
    campaign = campaign_services.campaign_create(
        org=ctx.org, user=ctx.manager, name="Cut off", template=ctx.template, slot_values=LINK_SLOTS
    )
    with django_capture_on_commit_callbacks(execute=False) as launched:
        campaign_services.campaign_launch(campaign=campaign, user=ctx.manager)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        for callback in launched:
            callback()
    lost = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True)[:3])
    Message.objects.filter(pk__in=lost).update(status=Message.Status.SUBMITTING)
    for callback in queued:
        callback()
    campaigns_supervise()
    return campaign, 3


PRODUCERS = {name.removeprefix("produce_"): value for name, value in globals().items() if name.startswith("produce_")}
# Produced by adapters with their own local peers, in their own test files.
ELSEWHERE = {"email_mailbox_unavailable", "email_invalid_address"}


def test_every_reason_of_the_catalogue_has_a_producing_test():
    assert set(reasons.REASONS) - ELSEWHERE == set(PRODUCERS)


@pytest.mark.parametrize("code", sorted(PRODUCERS))
def test_reason_is_produced_and_shown_on_view_details(ctx, code, request):
    producer = PRODUCERS[code]
    if "django_capture_on_commit_callbacks" in producer.__code__.co_varnames:
        campaign, count = producer(ctx, request.getfixturevalue("django_capture_on_commit_callbacks"))
    else:
        campaign, count = producer(ctx)
    assert Message.objects.filter(campaign=campaign).count() == TOTAL
    assert_shown(ctx.client, campaign, code, count)
