"""Receipt webhooks: Twilio-style and Infobip-style, authenticated, idempotent, ordered, early receipts kept."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from delivery import services
from delivery.gateways.webhooks import twilio_signature
from delivery.models import GatewayExchange, Message, PendingReceipt
from tests.delivery.helpers import TWILIO_TOKEN, infobip, post_infobip, post_twilio
from tests.factories import http_config


@pytest.fixture
def sent(http_gateway, org, customers, send_campaign):
    """A campaign sent through the HTTP gateway: 10 messages waiting for receipts (ids gw-<pk>)."""
    config = http_config(org, http_gateway.url)
    campaign = send_campaign()
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    assert {m.status for m in messages} == {Message.Status.SENT}
    return config, campaign, messages


def twilio_config(config):
    config.settings = {**config.settings, "receipt_format": "twilio"}
    config.save(update_fields=["settings"])
    return config


def test_a_signed_twilio_receipt_delivers_the_message(sent):
    config, _, messages = sent
    twilio_config(config)
    params = {"MessageSid": f"gw-{messages[0].pk}", "MessageStatus": "delivered", "To": "+919810000001"}
    response = post_twilio(Client(enforce_csrf_checks=True), config, params)
    assert response.status_code == 200
    messages[0].refresh_from_db()
    assert messages[0].status == Message.Status.DELIVERED


def test_a_twilio_failure_maps_its_error_code_to_a_reason_and_keeps_the_raw_code(sent, client):
    config, _, messages = sent
    twilio_config(config)
    params = {"MessageSid": f"gw-{messages[0].pk}", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert post_twilio(client, config, params).status_code == 200
    messages[0].refresh_from_db()
    assert (messages[0].status, messages[0].reason_code, messages[0].gateway_error) == (
        Message.Status.NOT_DELIVERED,
        "undeliverable",
        "TWILIO:30003",
    )


def test_an_unmapped_twilio_code_is_a_generic_failure_keeping_the_code(sent, client):
    config, _, messages = sent
    twilio_config(config)
    params = {"MessageSid": f"gw-{messages[0].pk}", "MessageStatus": "failed", "ErrorCode": "39999"}
    post_twilio(client, config, params)
    messages[0].refresh_from_db()
    assert (messages[0].reason_code, messages[0].gateway_error) == ("gateway_failed", "TWILIO:39999")


def test_a_twilio_receipt_with_a_wrong_signature_is_refused_logged_and_not_applied(sent, client):
    config, _, messages = sent
    twilio_config(config)
    params = {"MessageSid": f"gw-{messages[0].pk}", "MessageStatus": "delivered"}
    forged = post_twilio(client, config, params, token="not-the-token")
    missing = post_twilio(client, config, params, signature="")
    assert forged.status_code == 401 and missing.status_code == 401
    messages[0].refresh_from_db()
    assert messages[0].status == Message.Status.SENT
    refusal = GatewayExchange.objects.filter(operation="receipt", error__startswith="refused").first()
    assert refusal is not None and "X-Twilio-Signature" in refusal.error


def test_a_twilio_receipt_signed_for_another_url_is_refused(sent, client):
    config, _, messages = sent
    twilio_config(config)
    params = {"MessageSid": f"gw-{messages[0].pk}", "MessageStatus": "delivered"}
    wrong_url = twilio_signature(
        auth_token=TWILIO_TOKEN, url="http://evil.test/hook", params={k: [v] for k, v in params.items()}
    )
    assert post_twilio(client, config, params, signature=wrong_url).status_code == 401


def test_a_malformed_twilio_receipt_is_refused_with_400(sent, client):
    config, _, _ = sent
    twilio_config(config)
    assert post_twilio(client, config, {"MessageStatus": "delivered"}).status_code == 400
    assert post_twilio(client, config, {"MessageSid": "x", "MessageStatus": "exploded"}).status_code == 400


def test_a_signed_infobip_receipt_applies_each_result(sent, client):
    config, _, messages = sent
    body = infobip(f"gw-{messages[0].pk}", 3)
    body["results"] += infobip(f"gw-{messages[1].pk}", 4)["results"]
    response = post_infobip(Client(enforce_csrf_checks=True), config, body)
    assert response.status_code == 200
    states = dict(Message.objects.filter(pk__in=[messages[0].pk, messages[1].pk]).values_list("pk", "reason_code"))
    assert Message.objects.get(pk=messages[0].pk).status == Message.Status.DELIVERED
    assert states[messages[1].pk] == "expired"


def test_an_infobip_receipt_may_authenticate_with_a_token_instead(sent, client):
    config, _, messages = sent
    config.credentials = {"webhook_token": "tok-XYZ-1"}
    config.save(update_fields=["credentials"])
    body = infobip(f"gw-{messages[0].pk}", 3)
    assert post_infobip(client, config, body, headers={"HTTP_AUTHORIZATION": "Bearer wrong"}).status_code == 401
    assert post_infobip(client, config, body, headers={"HTTP_AUTHORIZATION": "Bearer tok-XYZ-1"}).status_code == 200
    assert Message.objects.get(pk=messages[0].pk).status == Message.Status.DELIVERED


def test_an_infobip_receipt_with_a_bad_signature_is_refused(sent, client):
    config, _, messages = sent
    response = post_infobip(client, config, infobip(f"gw-{messages[0].pk}", 3), secret="guess")
    assert response.status_code == 401
    assert Message.objects.get(pk=messages[0].pk).status == Message.Status.SENT


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"results": []}', b'{"results": [{"messageId": "x"}]}',
     b'{"results": [{"messageId": "x", "status": {"groupId": "three"}}]}',
     b'{"results": [{"messageId": "x", "status": {"groupId": 42}}]}',
     b'{"results": [{"messageId": true, "status": {"groupId": 3}}]}',
     b'{"results": [{"messageId": "x", "status": {"groupId": 1e400}}]}'],
)  # fmt: skip
def test_a_malformed_infobip_body_is_refused_with_400_and_nothing_changes(sent, client, body):
    config, _, _ = sent
    assert post_infobip(client, config, body).status_code == 400
    assert set(Message.objects.values_list("status", flat=True)) == {Message.Status.SENT}


def test_a_gateway_without_webhook_secrets_accepts_no_receipt(sent, client):
    config, _, messages = sent
    config.credentials = {"api_key": "k"}
    config.save(update_fields=["credentials"])
    assert post_infobip(client, config, infobip(f"gw-{messages[0].pk}", 3), secret="").status_code == 401


def test_a_repeated_receipt_changes_nothing(sent, client):
    config, _, messages = sent
    post_infobip(client, config, infobip(f"gw-{messages[0].pk}", 2, 27, "EC_ABSENT_SUBSCRIBER"))
    first = Message.objects.get(pk=messages[0].pk)
    post_infobip(client, config, infobip(f"gw-{messages[0].pk}", 2, 27, "EC_ABSENT_SUBSCRIBER"))
    again = Message.objects.get(pk=messages[0].pk)
    assert (first.status, first.reason_code, first.finished_at) == (again.status, again.reason_code, again.finished_at)
    assert first.reason_code == "undeliverable" and first.gateway_error == "INFOBIP:27"


def test_a_final_state_is_never_overwritten_by_a_late_intermediate_or_other_final_receipt(sent, client):
    config, _, messages = sent
    message_id = f"gw-{messages[0].pk}"
    post_infobip(client, config, infobip(message_id, 3))  # delivered
    post_infobip(client, config, infobip(message_id, 1))  # a late "pending"
    post_infobip(client, config, infobip(message_id, 2, 1, "EC_UNKNOWN_SUBSCRIBER"))  # a late failure
    message = Message.objects.get(pk=messages[0].pk)
    assert message.status == Message.Status.DELIVERED and message.reason_code == ""


def test_an_intermediate_receipt_keeps_the_message_waiting(sent, client):
    config, _, messages = sent
    twilio_config(config)
    post_twilio(client, config, {"MessageSid": f"gw-{messages[0].pk}", "MessageStatus": "sent"})
    assert Message.objects.get(pk=messages[0].pk).status == Message.Status.SENT


def test_another_orgs_gateway_cannot_move_this_orgs_messages(sent, client, other_org, http_gateway):
    _, _, messages = sent
    foreign = http_config(other_org, http_gateway.url)
    post_infobip(client, foreign, infobip(f"gw-{messages[0].pk}", 3))
    assert Message.objects.get(pk=messages[0].pk).status == Message.Status.SENT


def test_a_receipt_that_arrives_before_its_id_is_known_is_applied_when_the_id_appears(
    http_gateway, org, customers, send_campaign, client
):
    # given a receipt for gw-early, an id the gateway has not yet given to any message
    config = http_config(org, http_gateway.url)
    early = infobip("gw-early", 2, 0, "DLT:621")
    assert post_infobip(client, config, early).status_code == 200
    assert PendingReceipt.objects.filter(gateway_message_id="gw-early").exists()

    # when the campaign is sent and the gateway answers the first message with that id
    http_gateway.script = [("ok_id", "gw-early"), ("ok",)]
    campaign = send_campaign()

    # then the kept receipt is applied to that message, and no longer kept
    message = Message.objects.get(campaign=campaign, gateway_message_id="gw-early")
    assert (message.status, message.reason_code) == (Message.Status.NOT_DELIVERED, "dlt_sender_id")
    assert Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count() == 9
    assert not PendingReceipt.objects.exists()


def test_receipts_kept_for_unknown_ids_are_dropped_after_a_while(db, settings):
    settings.PENDING_RECEIPT_KEEP_HOURS = 24
    PendingReceipt.objects.create(gateway_message_id="old", state="delivered")
    PendingReceipt.objects.filter(gateway_message_id="old").update(received_at=timezone.now() - timedelta(hours=25))
    PendingReceipt.objects.create(gateway_message_id="new", state="delivered")
    assert services.pending_receipts_purge() == 1
    assert list(PendingReceipt.objects.values_list("gateway_message_id", flat=True)) == ["new"]


def test_messages_without_a_receipt_after_the_wait_become_not_delivered_no_receipt(sent, settings):
    # given 10 messages waiting, 3 of them sent 73 hours ago
    settings.RECEIPT_WAIT_HOURS = 72
    _, campaign, messages = sent
    old = [m.pk for m in messages[:3]]
    Message.objects.filter(pk__in=old).update(sent_at=timezone.now() - timedelta(hours=73))

    # when the sweep runs in batches of 2, twice
    from delivery.tasks import receipts_expire_task

    assert services.receipts_expire(batch_size=2) == 2
    assert receipts_expire_task.delay().get() == 1

    # then exactly the old ones are not delivered / no receipt, and a late receipt no longer changes them
    expired = Message.objects.filter(status=Message.Status.NOT_DELIVERED, reason_code="no_receipt")
    assert sorted(expired.values_list("pk", flat=True)) == old
    assert Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count() == 7


def test_behind_a_proxy_the_twilio_signature_is_checked_against_the_public_url(sent, client, settings):
    config, _, messages = sent
    twilio_config(config)
    settings.WEBHOOK_BASE_URL = "https://app.example.com"
    url = reverse("delivery:receipts", args=[config.pk])
    params = {"MessageSid": f"gw-{messages[0].pk}", "MessageStatus": "delivered"}
    signed_for = {k: [v] for k, v in params.items()}
    for public_url, expected in (("http://testserver" + url, 401), ("https://app.example.com" + url, 200)):
        signature = twilio_signature(auth_token=TWILIO_TOKEN, url=public_url, params=signed_for)
        response = client.post(url, urlencode(params), content_type="application/x-www-form-urlencoded",
                               HTTP_X_TWILIO_SIGNATURE=signature)  # fmt: skip
        assert response.status_code == expected
    assert Message.objects.get(pk=messages[0].pk).status == Message.Status.DELIVERED


@pytest.mark.parametrize("receipt_format", ["twilio", "infobip", "gupshup"])
def test_an_unsigned_multipart_post_is_refused_with_401_and_logged(org, receipt_format):
    # given an HTTP gateway with each receipt format
    config = http_config(org, "http://127.0.0.1:9/", receipt_format=receipt_format)
    client = Client(raise_request_exception=False)

    # when someone posts multipart/form-data (the test client's default) without a signature to both webhooks
    responses = [
        client.post(reverse(name, args=[config.pk]), {"MessageSid": "gw-1", "MessageStatus": "delivered"})
        for name in ("delivery:receipts", "delivery:inbound")
    ]

    # then both are refused as unauthenticated, and the refusals are in the gateway log
    assert [response.status_code for response in responses] == [401, 401]
    refusals = GatewayExchange.objects.filter(gateway=config, error__startswith="refused")
    assert sorted(refusals.values_list("operation", flat=True)) == ["inbound", "receipt"]
