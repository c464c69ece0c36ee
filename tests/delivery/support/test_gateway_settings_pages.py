"""Support staff add and change an org's gateways on pages: named fields, write-only secrets, one active gateway per
channel, the webhook addresses to give the gateway, and a connection check."""

import pytest
from django.urls import reverse

from delivery.gateways import gateway_from_config
from delivery.gateways.base import OutgoingMessage
from delivery.gateways.http import HttpGateway
from delivery.gateways.smpp import SmppGateway
from delivery.models import GatewayConfig, GatewayExchange
from tests.delivery.smsc import Smsc

SECRET = "whsec-never-shown-481"
OUTGOING = OutgoingMessage(1, "sms", "+919810000001", "Hi", "ACMERT", "1701160000000000001", "1707160000000000001")


@pytest.fixture
def staff(client, support):
    client.force_login(support)
    return client


def _http_form(**fields) -> dict:
    form = {"name": "Acme SMS", "channel": "sms", "is_active": "on", "url": "https://sms.acme.test/send",
            "receipt_format": "infobip", "timeout": "5", "max_retries": "2", "backoff": "", "rate_per_second": "20",
            "callback_url": "", "secret_api_key": "key-123", "secret_webhook_secret": SECRET}  # fmt: skip
    return {**form, **fields}


def test_an_http_gateway_added_on_the_page_is_what_the_adapter_reads(staff, org):
    # when support staff add an HTTP gateway for the org
    response = staff.post(reverse("support:gateway-new", args=[org.pk, "http"]), _http_form(), follow=True)

    # then the saved settings are the adapter's own names and values, and the secrets are stored
    config = GatewayConfig.objects.get(org=org)
    assert response.redirect_chain[-1][0] == reverse("support:gateway", args=[config.pk])
    assert config.settings == {"url": "https://sms.acme.test/send", "receipt_format": "infobip", "timeout": 5.0,
                               "max_retries": 2, "rate_per_second": 20.0}  # fmt: skip
    gateway = gateway_from_config(config)
    assert isinstance(gateway, HttpGateway)
    assert (gateway.url, gateway.timeout, gateway.max_retries, gateway.api_key) == (
        "https://sms.acme.test/send", 5.0, 2, "key-123"
    )  # fmt: skip
    assert config.credentials == {"api_key": "key-123", "webhook_secret": SECRET}
    # and the page shows where receipts and replies go, but never a secret
    page = response.content.decode()
    assert f"http://testserver/delivery/webhooks/{config.pk}/receipts/" in page
    assert f"http://testserver/delivery/webhooks/{config.pk}/inbound/" in page
    assert SECRET not in page and "key-123" not in page
    assert '<span class="helptext" data-secret="webhook_secret">set; leave empty to keep it</span>' in page
    assert 'name="clear_webhook_secret"' in page and 'name="clear_auth_token"' not in page  # nothing stored to clear


def test_an_empty_secret_keeps_the_stored_one_and_clear_removes_it(staff, org):
    staff.post(reverse("support:gateway-new", args=[org.pk, "http"]), _http_form())
    config = GatewayConfig.objects.get(org=org)
    edit = reverse("support:gateway", args=[config.pk])

    staff.post(edit, _http_form(secret_api_key="", secret_webhook_secret="", timeout="7"))
    config.refresh_from_db()
    assert config.credentials == {"api_key": "key-123", "webhook_secret": SECRET} and config.settings["timeout"] == 7.0

    staff.post(edit, _http_form(secret_api_key="", secret_webhook_secret="", clear_webhook_secret="on"))
    config.refresh_from_db()
    assert config.credentials == {"api_key": "key-123"}
    assert SECRET not in staff.get(edit).content.decode()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "ftp://sms.acme.test"}, "Enter an http:// or https:// address."),
        ({"url": ""}, "This field is required."),
        ({"rate_per_second": "-1"}, "Ensure this value is greater than or equal to 0."),
        ({"receipt_format": "carrier-pigeon"}, "Select a valid choice."),
    ],
)
def test_bad_settings_are_refused_next_to_their_field(staff, org, fields, error):
    response = staff.post(reverse("support:gateway-new", args=[org.pk, "http"]), _http_form(**fields))
    assert response.status_code == 200 and error in response.content.decode()
    assert not GatewayConfig.objects.exists()


def test_a_new_active_gateway_replaces_the_active_one_of_its_channel(staff, org):
    staff.post(reverse("support:gateway-new", args=[org.pk, "http"]), _http_form(name="First"))
    staff.post(reverse("support:gateway-new", args=[org.pk, "simulated"]), {"channel": "sms", "is_active": "on"})
    assert dict(GatewayConfig.objects.values_list("name", "is_active")) == {"First": False, "": True}
    page = staff.get(reverse("support:org", args=[org.pk])).content.decode()
    assert page.count("<tr data-gateway=") == 2


def test_an_smpp_gateway_is_checked_from_its_page_against_a_real_smsc(staff, org):
    smsc = Smsc().start()
    try:
        form = {"channel": "sms", "is_active": "on", "host": "127.0.0.1", "port": str(smsc.port), "system_id": "acme",
                "submit_id_base": "16", "receipt_id_base": "10", "entity_id_tlv": "0x1400", "timeout": "2",
                "secret_password": "sm-pw-77"}  # fmt: skip
        staff.post(reverse("support:gateway-new", args=[org.pk, "smpp"]), form)
        config = GatewayConfig.objects.get(org=org)
        response = staff.post(reverse("support:gateway-check", args=[config.pk]), follow=True)
    finally:
        smsc.stop()
    assert "bound &#x27;acme&#x27; as a transceiver and unbound" in response.content.decode()
    assert smsc.binds == [("acme", "sm-pw-77")]
    assert GatewayExchange.objects.filter(gateway=config, operation="check", error="").exists()


def test_smpp_addressing_chosen_on_the_page_is_what_the_smsc_receives(staff, org):
    smsc = Smsc().start()
    try:
        form = {"channel": "sms", "is_active": "on", "host": "127.0.0.1", "port": str(smsc.port), "system_id": "acme",
                "timeout": "2", "source_ton": "1", "source_npi": "1", "dest_ton": "2", "dest_npi": "8"}  # fmt: skip
        staff.post(reverse("support:gateway-new", args=[org.pk, "smpp"]), form)
        config = GatewayConfig.objects.get(org=org)
        page = staff.get(reverse("support:gateway", args=[config.pk])).content.decode()
        default = SmppGateway.from_config({"host": "h", "port": 1}, {})
        gateway_from_config(config).send_batch([OUTGOING])
    finally:
        smsc.stop()
    assert '<option value="2" selected>2: National</option>' in page
    assert '<option value="8" selected>8: National</option>' in page
    assert "empty: 5: Alphanumeric" in page
    assert smsc.submits[0].addressing == (1, 1, 2, 8)
    assert (default.source_ton, default.source_npi, default.dest_ton, default.dest_npi) == (5, 0, 1, 1)


def test_an_smpp_address_type_outside_the_list_is_refused(staff, org):
    form = {"channel": "sms", "host": "h", "port": "2775", "system_id": "acme", "dest_ton": "9"}
    response = staff.post(reverse("support:gateway-new", args=[org.pk, "smpp"]), form)
    assert "Select a valid choice. 9 is not one of the available choices." in response.content.decode()
    assert not GatewayConfig.objects.exists()


def test_a_tlv_tag_that_is_not_a_number_is_refused(staff, org):
    form = {"channel": "sms", "host": "h", "port": "2775", "system_id": "acme", "entity_id_tlv": "tag"}
    response = staff.post(reverse("support:gateway-new", args=[org.pk, "smpp"]), form)
    assert "Write the tag as a number, e.g. 0x1400 or 5120." in response.content.decode()


def test_campaign_managers_cannot_see_or_change_gateways(client, manager, org):
    config = GatewayConfig.objects.create(org=org, channel="sms", kind="simulated")
    client.force_login(manager)
    assert client.get(reverse("support:gateway", args=[config.pk])).status_code == 403
    assert client.post(reverse("support:gateway-new", args=[org.pk, "http"]), _http_form()).status_code == 403
    assert client.post(reverse("support:gateway-check", args=[config.pk])).status_code == 403
    assert GatewayConfig.objects.count() == 1


def test_an_unknown_kind_is_a_404(staff, org):
    assert staff.get(reverse("support:gateway-new", args=[org.pk, "carrier-pigeon"])).status_code == 404
