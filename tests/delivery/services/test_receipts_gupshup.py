"""Gupshup-style receipts: a JSON array of up to 20 events, authenticated like the other JSON shapes, each event
type mapped to a state and each failure code to a catalogue reason, shown on View Details."""

import hashlib
import hmac
import json

import pytest
from django.test import Client
from django.urls import reverse

from delivery.gateways import codes as errors
from delivery.models import GatewayConfig, GatewayExchange, Message, PendingReceipt
from tests.delivery.helpers import assert_shown, details_section
from tests.factories import http_config, make_customers
from tests.helpers import admin_sign_in

SECRET = "whsec-abc-987"
SENT_AT = 1_795_000_000_000  # eventTs: milliseconds since the epoch


@pytest.fixture
def sent(http_gateway, org, customers, send_campaign):
    """A campaign sent through the HTTP gateway with Gupshup receipts: 10 messages waiting (ids gw-<pk>)."""
    config = http_config(org, http_gateway.url, receipt_format="gupshup")
    campaign = send_campaign()
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    assert {m.status for m in messages} == {Message.Status.SENT}
    return config, campaign, messages


def event(external_id: str, event_type: str, err_code="000", cause="SUCCESS", at: int = SENT_AT) -> dict:
    return {"externalId": external_id, "eventType": event_type, "eventTs": at, "destAddr": "919810000001",
            "srcAddr": "ACMERT", "cause": cause, "errCode": err_code, "channel": "SMS", "noOfFrags": 1}  # fmt: skip


def post_gupshup(client: Client, config, body, *, secret: str = SECRET, headers: dict | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    extra = headers if headers is not None else {"HTTP_X_SIGNATURE": signature}
    return client.post(reverse("delivery:receipts", args=[config.pk]), raw, content_type="application/json", **extra)


def outcome(message: Message) -> tuple[str, str, str]:
    message.refresh_from_db()
    return message.status, message.reason_code, message.gateway_error


# --- event types ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "err_code", "cause", "expected"),
    [("SENT", "000", "SUCCESS", ("sent", "", "")),
     ("DELIVERED", "000", "SUCCESS", ("delivered", "", "")),
     ("FAILED", "003", "UNKNOWN_SUBSCRIBER", ("not_delivered", "undeliverable", "GUPSHUP:003")),
     ("UNDELIVERED", "001", "ABSENT_SUBSCRIBER", ("not_delivered", "undeliverable", "GUPSHUP:001")),
     ("FAILED", "", "", ("not_delivered", "gateway_failed", "")),
     ("UNDELIVERED", "000", "", ("not_delivered", "undeliverable", "")),
     ("UNKNOWN", "000", "", ("unknown", "operator_no_report", "")),
     ("delivered", "000", "SUCCESS", ("delivered", "", ""))],
)  # fmt: skip
def test_each_gupshup_event_type_moves_the_message_to_its_state(sent, client, event_type, err_code, cause, expected):
    config, _, messages = sent
    response = post_gupshup(Client(enforce_csrf_checks=True), config, [event(f"gw-{messages[0].pk}", event_type,
                                                                               err_code, cause)])  # fmt: skip
    assert response.status_code == 200
    assert outcome(messages[0]) == expected
    assert {m.status for m in Message.objects.exclude(pk=messages[0].pk)} == {Message.Status.SENT}


def test_a_sent_event_is_kept_in_the_gateway_log_while_the_message_waits(sent, client):
    config, _, messages = sent
    post_gupshup(client, config, [event(f"gw-{messages[0].pk}", "SENT")])
    log = GatewayExchange.objects.get(operation="receipt", message=messages[0])
    assert '"eventType": "SENT"' in log.request
    assert Message.objects.get(pk=messages[0].pk).status == Message.Status.SENT


@pytest.mark.parametrize(
    ("err_code", "cause", "reason", "gateway_error"),
    [("006", "DND_FAIL", "ndnc", "GUPSHUP:006"),
     (6, "DND_FAIL", "ndnc", "GUPSHUP:006"),  # a number in the JSON, not a string
     ("002", "CALL_BARRED", "undeliverable", "GUPSHUP:002"),
     ("005", "SYSTEM_FAILURE", "gateway_failed", "GUPSHUP:005"),
     ("601", "", "dlt_entity", "GUPSHUP:601"),
     ("616", "", "dlt_chain", "GUPSHUP:616"),
     ("623", "", "dlt_sender_id", "GUPSHUP:623"),
     ("633", "", "dlt_template", "GUPSHUP:633"),
     ("", "DND_FAIL", "ndnc", "GUPSHUP:DND_FAIL"),
     ("017", "UNKNOWN_SUBSCRIBER", "undeliverable", "GUPSHUP:017"),
     ("777", "SOMETHING_NEW", "gateway_failed", "GUPSHUP:777"),
     ("", "SOMETHING_NEW", "gateway_failed", "GUPSHUP:SOMETHING_NEW")],
)  # fmt: skip
def test_a_failure_maps_its_code_or_cause_to_a_reason_and_keeps_the_raw_code(
    sent, client, err_code, cause, reason, gateway_error
):
    config, _, messages = sent
    assert post_gupshup(client, config, [event(f"gw-{messages[0].pk}", "FAILED", err_code, cause)]).status_code == 200
    assert outcome(messages[0]) == ("not_delivered", reason, gateway_error)


def test_gupshup_codes_and_event_types_map_without_a_request():
    assert errors.gupshup_receipt_reason("FAILED", "3") == ("not_delivered", "undeliverable")
    assert errors.gupshup_receipt_reason("FAILED", "NDNC") == ("not_delivered", "ndnc")
    assert errors.gupshup_receipt_reason("UNDELIVERED", "4242", "") == ("not_delivered", "gateway_failed")
    assert errors.gupshup_receipt_reason("SENT", "006", "DND_FAIL") == ("pending", "")
    assert errors.gupshup_receipt_reason("READ", "000") is None
    assert errors.gupshup_error_code("0") == "" and errors.gupshup_error_code("42") == "042"


# --- batches, repeats and order ---------------------------------------------------------------------------------


def test_twenty_events_in_one_post_are_applied_in_a_few_queries(
    http_gateway, org, send_campaign, client, django_assert_max_num_queries
):
    # given a campaign of 20 messages waiting for their receipts
    make_customers(org, 20)
    config = http_config(org, http_gateway.url, receipt_format="gupshup")
    campaign = send_campaign()
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    assert len(messages) == 20

    # when Gupshup posts one batch of 20 events: 12 delivered, 8 failed
    batch = [event(f"gw-{m.pk}", "DELIVERED") for m in messages[:12]]
    batch += [event(f"gw-{m.pk}", "FAILED", "003", "UNKNOWN_SUBSCRIBER") for m in messages[12:]]
    with django_assert_max_num_queries(8):
        response = post_gupshup(client, config, batch)

    # then every message has its outcome, and every event is in the gateway log
    assert response.status_code == 200
    rows = Message.objects.filter(campaign=campaign).values_list("status", "reason_code")
    assert sorted(rows) == sorted([("delivered", "")] * 12 + [("not_delivered", "undeliverable")] * 8)
    assert GatewayExchange.objects.filter(operation="receipt", message__campaign=campaign).count() == 20


def test_more_than_twenty_events_in_one_post_are_refused(http_gateway, org, send_campaign, client):
    make_customers(org, 21)
    config = http_config(org, http_gateway.url, receipt_format="gupshup")
    campaign = send_campaign()
    batch = [event(f"gw-{m.pk}", "DELIVERED") for m in Message.objects.filter(campaign=campaign)]
    response = post_gupshup(client, config, batch)
    assert response.status_code == 400 and "at most 20 events" in response.content.decode()
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}


def test_the_array_may_come_wrapped_as_gupshups_example_shows(sent, client):
    config, _, messages = sent
    body = {"response": [event(f"gw-{messages[0].pk}", "DELIVERED")]}
    assert post_gupshup(client, config, body).status_code == 200
    assert outcome(messages[0])[0] == Message.Status.DELIVERED


def test_a_repeated_receipt_changes_nothing(sent, client):
    config, _, messages = sent
    failed = [event(f"gw-{messages[0].pk}", "FAILED", "001", "ABSENT_SUBSCRIBER")]
    post_gupshup(client, config, failed)
    first = Message.objects.get(pk=messages[0].pk)
    post_gupshup(client, config, failed)
    post_gupshup(client, config, failed + failed)  # and twice in one batch
    again = Message.objects.get(pk=messages[0].pk)
    assert (first.status, first.reason_code, first.gateway_error, first.finished_at) == (
        again.status, again.reason_code, again.gateway_error, again.finished_at,
    )  # fmt: skip
    assert first.reason_code == "undeliverable"


def test_a_final_state_is_never_overwritten_by_a_late_receipt(sent, client):
    config, _, messages = sent
    message_id = f"gw-{messages[0].pk}"
    post_gupshup(client, config, [event(message_id, "DELIVERED", at=SENT_AT + 2000)])
    post_gupshup(client, config, [event(message_id, "SENT", at=SENT_AT)])  # the intermediate event, late
    post_gupshup(client, config, [event(message_id, "FAILED", "005", "SYSTEM_FAILURE", at=SENT_AT + 3000)])
    assert outcome(messages[0]) == ("delivered", "", "")


def test_within_one_batch_the_event_that_happened_first_counts_whatever_the_order_posted(sent, client):
    # given a batch listing a message's events newest first
    config, _, messages = sent
    message_id = f"gw-{messages[0].pk}"
    batch = [
        event(message_id, "DELIVERED", at=SENT_AT + 9000),
        event(message_id, "FAILED", "001", "ABSENT_SUBSCRIBER", at=SENT_AT + 5000),
        event(message_id, "SENT", at=SENT_AT),
    ]

    # when it is posted
    assert post_gupshup(client, config, batch).status_code == 200

    # then the earlier final event is the outcome
    assert outcome(messages[0]) == ("not_delivered", "undeliverable", "GUPSHUP:001")


def test_a_receipt_that_arrives_before_its_id_is_known_is_applied_when_the_id_appears(
    http_gateway, org, customers, send_campaign, client
):
    # given a Gupshup failure for gw-early, an id no message carries yet
    config = http_config(org, http_gateway.url, receipt_format="gupshup")
    assert post_gupshup(client, config, [event("gw-early", "FAILED", "006", "DND_FAIL")]).status_code == 200
    assert PendingReceipt.objects.filter(gateway_message_id="gw-early", org=org).exists()

    # when the campaign is sent and the gateway answers the first message with that id
    http_gateway.script = [("ok_id", "gw-early"), ("ok",)]
    campaign = send_campaign()

    # then the kept receipt is applied to that message, and no longer kept
    message = Message.objects.get(campaign=campaign, gateway_message_id="gw-early")
    assert outcome(message) == ("not_delivered", "ndnc", "GUPSHUP:006")
    assert Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count() == 9
    assert not PendingReceipt.objects.exists()


# --- refused --------------------------------------------------------------------------------------------------


def test_a_receipt_with_a_bad_or_missing_signature_is_refused_logged_and_not_applied(sent, client):
    config, _, messages = sent
    body = [event(f"gw-{messages[0].pk}", "DELIVERED")]
    assert post_gupshup(client, config, body, secret="guess").status_code == 401
    assert post_gupshup(client, config, body, headers={}).status_code == 401
    assert outcome(messages[0])[0] == Message.Status.SENT
    assert GatewayExchange.objects.filter(operation="receipt", error__startswith="refused: signature").count() == 2


def test_a_receipt_may_authenticate_with_a_token_instead(sent, client):
    config, _, messages = sent
    config.credentials = {"webhook_token": "tok-GS-1"}
    config.save(update_fields=["credentials"])
    body = [event(f"gw-{messages[0].pk}", "DELIVERED")]
    assert post_gupshup(client, config, body, headers={"HTTP_AUTHORIZATION": "Bearer tok-GS-2"}).status_code == 401
    assert post_gupshup(client, config, body, headers={"HTTP_AUTHORIZATION": "Bearer tok-GS-1"}).status_code == 200
    assert outcome(messages[0])[0] == Message.Status.DELIVERED


def test_a_gateway_without_webhook_secrets_accepts_no_receipt(sent, client):
    config, _, messages = sent
    config.credentials = {"api_key": "k"}
    config.save(update_fields=["credentials"])
    assert post_gupshup(client, config, [event(f"gw-{messages[0].pk}", "DELIVERED")], secret="").status_code == 401
    assert outcome(messages[0])[0] == Message.Status.SENT


@pytest.mark.parametrize(
    ("body", "why"),
    [(b"not json", "not JSON"),
     (b'{"results": [{"messageId": "x", "status": {"groupId": 3}}]}', "JSON array"),
     (b"[]", "JSON array"),
     (b'["DELIVERED"]', "must be an object"),
     (b'[{"eventType": "DELIVERED", "eventTs": 1}]', "externalId"),
     (b'[{"externalId": "", "eventType": "DELIVERED"}]', "externalId"),
     (b'[{"externalId": true, "eventType": "DELIVERED"}]', "externalId"),
     (b'[{"externalId": "gw-1"}]', "eventType"),
     (b'[{"externalId": "gw-1", "eventType": "TELEPORTED"}]', "unknown eventType"),
     (b'[{"externalId": "gw-1", "eventType": "DELIVERED", "eventTs": "yesterday"}]', "eventTs"),
     (b'[{"externalId": "gw-1", "eventType": "DELIVERED", "eventTs": "\\u00b2"}]', "eventTs")],
)  # fmt: skip
def test_a_malformed_body_is_refused_with_400_saying_why_and_nothing_changes(sent, client, body, why):
    config, _, _ = sent
    response = post_gupshup(client, config, body)
    assert response.status_code == 400 and why in response.content.decode()
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}
    assert not PendingReceipt.objects.exists()


def test_one_bad_event_refuses_the_whole_batch(sent, client):
    config, _, messages = sent
    batch = [event(f"gw-{messages[0].pk}", "DELIVERED"), event(f"gw-{messages[1].pk}", "EXPLODED")]
    assert post_gupshup(client, config, batch).status_code == 400
    assert outcome(messages[0])[0] == Message.Status.SENT


def test_another_orgs_gateway_cannot_move_this_orgs_messages(sent, client, other_org, http_gateway):
    _, _, messages = sent
    foreign = http_config(other_org, http_gateway.url, receipt_format="gupshup")
    assert post_gupshup(client, foreign, [event(f"gw-{messages[0].pk}", "DELIVERED")]).status_code == 200
    assert outcome(messages[0])[0] == Message.Status.SENT


# --- configuration --------------------------------------------------------------------------------------------


def _admin_form(org, settings: dict) -> dict:
    return {"org": org.pk, "channel": "sms", "kind": "http", "name": "Gupshup", "settings": json.dumps(settings),
            "is_active": "on", "new_credentials": '{"webhook_secret": "s-1"}'}  # fmt: skip


def test_support_staff_choose_gupshup_receipts_on_an_http_gateway(client, support, org):
    admin_sign_in(client, support)
    form = _admin_form(org, {"url": "http://gw.test/sms", "receipt_format": "gupshup"})
    assert client.post(reverse("admin:delivery_gatewayconfig_add"), form).status_code == 302
    assert GatewayConfig.objects.get().settings["receipt_format"] == "gupshup"


def test_an_unknown_receipt_format_is_refused_naming_the_choices(client, support, org):
    admin_sign_in(client, support)
    form = _admin_form(org, {"url": "http://gw.test/sms", "receipt_format": "gupshop"})
    page = client.post(reverse("admin:delivery_gatewayconfig_add"), form).content.decode()
    assert "receipt_format must be one of" in page and "&quot;gupshup&quot;" in page
    assert not GatewayConfig.objects.exists()


# --- end to end -----------------------------------------------------------------------------------------------


def test_gupshup_receipts_for_a_campaign_are_explained_on_view_details(sent, client, manager, http_gateway):
    # given a campaign handed to the local HTTP gateway, one request per message
    config, campaign, messages = sent
    assert len(http_gateway.requests) == 10
    ids = [message.gateway_message_id for message in messages]

    # when Gupshup posts its events in two batches, out of order and with one repeat
    first = [
        event(ids[0], "SENT"),
        event(ids[1], "SENT"),
        event(ids[2], "DELIVERED"),
        event(ids[3], "DELIVERED"),
        event(ids[4], "FAILED", "003", "UNKNOWN_SUBSCRIBER"),
        event(ids[5], "FAILED", "006", "DND_FAIL"),
    ]
    second = [
        event(ids[6], "FAILED", "006", "DND_FAIL"),
        event(ids[7], "FAILED", "623", ""),
        event(ids[8], "UNDELIVERED", "001", "ABSENT_SUBSCRIBER"),
        event(ids[9], "FAILED", "777", "NEW"),
        event(ids[2], "FAILED", "005", "SYSTEM_FAILURE"),
        event(ids[1], "DELIVERED", at=SENT_AT + 1),
    ]
    assert post_gupshup(Client(), config, first).status_code == 200
    assert post_gupshup(Client(), config, second).status_code == 200

    # then View Details explains each reason, with its share and the gateway's own codes
    client.force_login(manager)
    assert_shown(client, campaign, "undeliverable", 2)
    assert_shown(client, campaign, "ndnc", 2)
    assert_shown(client, campaign, "dlt_sender_id", 1)
    assert_shown(client, campaign, "gateway_failed", 1)
    assert_shown(client, campaign, "pending", 1)  # only "sent to the operator" so far
    assert "<code>GUPSHUP:003</code> × 1" in details_section(client, campaign, "undeliverable")
    assert "<code>GUPSHUP:006</code> × 2" in details_section(client, campaign, "ndnc")
    assert "<code>GUPSHUP:777</code> × 1" in details_section(client, campaign, "gateway_failed")
    assert Message.objects.filter(campaign=campaign, status=Message.Status.DELIVERED).count() == 3
