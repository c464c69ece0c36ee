"""A "STOP" reply through the HTTP gateway's inbound webhook unsubscribes the customer from SMS."""

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Customer, Unsubscribe
from delivery.gateways.webhooks import twilio_signature
from delivery.models import GatewayExchange
from tests.delivery.helpers import SECRET, TWILIO_TOKEN, statuses
from tests.factories import http_config


def post_twilio_inbound(config, params: dict, token: str = TWILIO_TOKEN):
    url = reverse("delivery:inbound", args=[config.pk])
    signature = twilio_signature(auth_token=token, url="http://testserver" + url,
                                 params={k: [v] for k, v in params.items()})  # fmt: skip
    return Client(enforce_csrf_checks=True).post(
        url, urlencode(params), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )


def post_json_inbound(config, body: dict, secret: str = SECRET):
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return Client(enforce_csrf_checks=True).post(
        reverse("delivery:inbound", args=[config.pk]), raw, content_type="application/json", HTTP_X_SIGNATURE=signature
    )


@pytest.fixture
def gateway_config(org, http_gateway):
    return http_config(org, http_gateway.url)


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop. ", "UNSUBSCRIBE please"])
def test_a_stop_reply_in_a_twilio_form_unsubscribes_the_customer_from_sms(gateway_config, customers, text):
    gateway_config.settings = {**gateway_config.settings, "receipt_format": "twilio"}
    gateway_config.save(update_fields=["settings"])
    customer = customers[0]
    response = post_twilio_inbound(gateway_config, {"From": customer.mobile, "To": "ACMERT", "Body": text})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.sms_subscribed is False and customer.email_subscribed is True
    record = Unsubscribe.objects.get(customer=customer)
    assert (record.channel, record.source) == ("sms", "stop_reply")
    assert GatewayExchange.objects.filter(operation="inbound", error="").exists()


def test_a_stop_reply_in_json_without_the_plus_sign_unsubscribes_and_the_next_campaign_skips_them(
    gateway_config, customers, send_campaign
):
    customer = customers[1]
    body = {"results": [{"from": customer.mobile.lstrip("+"), "to": "ACMERT", "text": "STOP"}]}
    assert post_json_inbound(gateway_config, body).status_code == 200
    assert Customer.objects.get(pk=customer.pk).sms_subscribed is False
    campaign = send_campaign()
    assert statuses(campaign)["not_sent:unsubscribed"] == 1


def test_other_replies_change_nothing(gateway_config, customers):
    body = {"results": [{"from": customers[0].mobile, "text": "When does the sale stop?"}]}
    assert post_json_inbound(gateway_config, body).status_code == 200
    assert Customer.objects.get(pk=customers[0].pk).sms_subscribed is True
    assert not Unsubscribe.objects.exists()


def test_a_stop_from_a_number_of_another_org_changes_nothing_here(gateway_config, customers, other_org):
    stranger = Customer.objects.create(org=other_org, name="Elsewhere", mobile="+919899999999")
    body = {"results": [{"from": stranger.mobile, "text": "STOP"}]}
    assert post_json_inbound(gateway_config, body).status_code == 200
    assert Customer.objects.get(pk=stranger.pk).sms_subscribed is True


def test_an_unsigned_stop_is_refused_and_nobody_is_unsubscribed(gateway_config, customers):
    body = {"results": [{"from": customers[0].mobile, "text": "STOP"}]}
    assert post_json_inbound(gateway_config, body, secret="forged").status_code == 401
    assert Customer.objects.get(pk=customers[0].pk).sms_subscribed is True


def test_a_malformed_inbound_body_is_refused_with_400(gateway_config):
    assert post_json_inbound(gateway_config, {"results": [{"text": "STOP"}]}).status_code == 400


@pytest.fixture
def gupshup_config(gateway_config):
    gateway_config.settings = {**gateway_config.settings, "receipt_format": "gupshup"}
    gateway_config.credentials = {**gateway_config.credentials, "webhook_token": "gs-token-77"}
    gateway_config.save(update_fields=["settings", "credentials"])
    return gateway_config


def gupshup_keyword_call(config, **params):
    """Gupshup calls its keyword response URL with a GET, the token in the URL support configured."""
    query = {"phonecode": "9220092200", "location": "Mumbai", "carrier": "Vodafone", "timestamp": "13082098000"}
    return Client(enforce_csrf_checks=True).get(reverse("delivery:inbound", args=[config.pk]), {**query, **params})


def test_a_stop_through_gupshups_keyword_url_with_a_national_number_unsubscribes_and_texts_nothing_back(
    gupshup_config, customers
):
    # given a customer stored as +91..., and Gupshup writing the number without the country code
    customer = customers[0]
    national = customer.mobile.removeprefix("+91")

    # when Gupshup calls the keyword URL for the reply "STOP"
    response = gupshup_keyword_call(
        gupshup_config, token="gs-token-77", msisdn=national, keyword="STOP", content="STOP"
    )

    # then the customer is unsubscribed from SMS, and the answer is Gupshup's empty XML (so no "ok" is texted back)
    assert response.status_code == 200
    assert response.content == b"<response></response>" and response["Content-Type"] == "application/xml"
    assert Customer.objects.get(pk=customer.pk).sms_subscribed is False
    logged = GatewayExchange.objects.get(operation="inbound")
    assert f"msisdn={national}" in logged.request and "gs-token-77" not in logged.request  # the token is redacted


def test_gupshups_keyword_url_without_the_right_token_is_refused(gupshup_config, customers):
    for token in ({}, {"token": "guessed"}):
        response = gupshup_keyword_call(gupshup_config, msisdn=customers[0].mobile.lstrip("+"), content="STOP", **token)
        assert response.status_code == 401
    assert Customer.objects.get(pk=customers[0].pk).sms_subscribed is True


def test_gupshups_keyword_url_without_msisdn_is_refused_with_400(gupshup_config):
    assert gupshup_keyword_call(gupshup_config, token="gs-token-77", content="STOP").status_code == 400


def test_a_get_is_refused_for_gateways_that_post_their_replies(gateway_config, customers):
    response = Client().get(reverse("delivery:inbound", args=[gateway_config.pk]), {"msisdn": "x", "token": "y"})
    assert response.status_code == 405
