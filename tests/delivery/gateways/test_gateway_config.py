"""Gateway configuration per org and channel: which adapter is used, and secrets that are never shown back."""

import pytest
from django.urls import reverse

from campaigns.models import User
from delivery.gateways import gateway_for
from delivery.gateways.email import EmailGateway
from delivery.gateways.http import HttpGateway
from delivery.gateways.simulated import SimulatedGateway
from delivery.gateways.smpp import SmppGateway
from delivery.models import GatewayConfig, GatewayExchange, Message
from tests.delivery.helpers import statuses
from tests.helpers import admin_sign_in

SECRETS = {"api_key": "sk-live-SECRET-123", "webhook_secret": "whsec-abc-987"}


@pytest.fixture
def admin_user(support) -> User:
    """Support staff: is_staff, no superuser rights and no model permissions handed out."""
    assert not support.is_superuser and not support.user_permissions.exists()
    return support


def test_without_configuration_sms_is_simulated_and_email_uses_django_email(org):
    assert isinstance(gateway_for(org_id=org.pk, channel="sms"), SimulatedGateway)
    assert isinstance(gateway_for(org_id=org.pk, channel="email"), EmailGateway)


def test_the_active_configuration_of_the_org_and_channel_picks_the_adapter(org, other_org):
    GatewayConfig.objects.create(org=org, channel="sms", kind="http", settings={"url": "http://gw.test/"},
                                 is_active=False)  # fmt: skip
    assert isinstance(gateway_for(org_id=org.pk, channel="sms"), SimulatedGateway)
    GatewayConfig.objects.create(org=org, channel="sms", kind="smpp", settings={"host": "smsc.test", "port": 2775})
    GatewayConfig.objects.create(org=other_org, channel="sms", kind="http", settings={"url": "http://gw.test/"})
    assert isinstance(gateway_for(org_id=org.pk, channel="sms"), SmppGateway)
    assert isinstance(gateway_for(org_id=other_org.pk, channel="sms"), HttpGateway)
    assert isinstance(gateway_for(org_id=org.pk, channel="email"), EmailGateway)


def test_an_org_has_one_active_gateway_per_channel(org):
    from django.db import IntegrityError, transaction

    GatewayConfig.objects.create(org=org, channel="sms", kind="simulated")
    with pytest.raises(IntegrityError), transaction.atomic():
        GatewayConfig.objects.create(org=org, channel="sms", kind="http", settings={"url": "http://gw.test/"})


def test_an_orgs_simulated_gateway_uses_its_own_mix_reproducibly(org, customers, send_campaign, template):
    GatewayConfig.objects.create(org=org, channel="sms", kind="simulated", settings={"mix": "ndnc:1,expired:1",
                                                                                      "seed": 11})  # fmt: skip
    first = send_campaign(name="First")
    outcomes = statuses(first)
    assert set(outcomes) <= {"not_delivered:ndnc", "not_delivered:expired"} and sum(outcomes.values()) == 10
    gateway = SimulatedGateway.from_settings({"mix": "ndnc:1,expired:1", "seed": 11})
    again = [gateway.outcome(f"sim-t-{n}") for n in range(50)]
    assert again == [gateway.outcome(f"sim-t-{n}") for n in range(50)]
    assert set(again) == {"ndnc", "expired"}


def test_the_simulated_mix_can_leave_messages_without_receipt(org, customers, send_campaign):
    GatewayConfig.objects.create(org=org, channel="sms", kind="simulated", settings={"mix": "no_receipt:1"})
    assert statuses(send_campaign()) == {"sent": 10}


def test_admin_never_shows_stored_secrets(client, admin_user, org):
    config = GatewayConfig.objects.create(org=org, channel="sms", kind="http", settings={"url": "http://gw.test/"},
                                          credentials=SECRETS)  # fmt: skip
    admin_sign_in(client, admin_user)
    change = client.get(reverse("admin:delivery_gatewayconfig_change", args=[config.pk])).content.decode()
    listing = client.get(reverse("admin:delivery_gatewayconfig_changelist")).content.decode()
    for secret in SECRETS.values():
        assert secret not in change and secret not in listing
    assert "api_key, webhook_secret" in change


def _admin_form(org, **fields) -> dict:
    return {"org": org.pk, "channel": "sms", "kind": "http", "name": "Main", "settings": '{"url": "http://gw.test/"}',
            "is_active": "on", "new_credentials": "", **fields}  # fmt: skip


def test_admin_keeps_secrets_when_the_field_is_left_blank_and_replaces_them_when_given(client, admin_user, org):
    config = GatewayConfig.objects.create(org=org, channel="sms", kind="http", settings={"url": "http://gw.test/"},
                                          credentials=SECRETS)  # fmt: skip
    admin_sign_in(client, admin_user)
    url = reverse("admin:delivery_gatewayconfig_change", args=[config.pk])
    assert client.post(url, _admin_form(org)).status_code == 302
    config.refresh_from_db()
    assert config.credentials == SECRETS
    client.post(url, _admin_form(org, new_credentials='{"api_key": "sk-new"}'))
    config.refresh_from_db()
    assert config.credentials == {"api_key": "sk-new"}


def test_admin_explains_credentials_that_are_not_json(client, admin_user, org):
    admin_sign_in(client, admin_user)
    response = client.post(reverse("admin:delivery_gatewayconfig_add"), _admin_form(org, new_credentials="api_key=1"))
    assert response.status_code == 200 and "This is not valid JSON" in response.content.decode()
    assert not GatewayConfig.objects.exists()


def test_campaign_managers_cannot_reach_gateway_configuration(client, manager):
    client.force_login(manager)
    response = client.get(reverse("admin:delivery_gatewayconfig_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_support_staff_read_the_gateway_log_in_admin_but_cannot_edit_it(client, admin_user, org):
    exchange = GatewayExchange.objects.create(gateway_kind="http", operation="submit", request="POST /sms")
    admin_sign_in(client, admin_user)
    page = client.get(reverse("admin:delivery_gatewayexchange_change", args=[exchange.pk]))
    assert page.status_code == 200 and "POST /sms" in page.content.decode()
    assert (
        client.post(reverse("admin:delivery_gatewayexchange_delete", args=[exchange.pk]), {"post": "yes"}).status_code
        == 403
    )


def test_admin_says_which_settings_a_gateway_kind_needs(client, admin_user, org):
    admin_sign_in(client, admin_user)
    form = _admin_form(org, kind="smpp", settings='{"host": "smsc.test"}')
    response = client.post(reverse("admin:delivery_gatewayconfig_add"), form)
    assert "A SMPP gateway needs these settings: port, system_id." in response.content.decode()
    assert not GatewayConfig.objects.exists()


def test_a_configuration_missing_a_setting_leaves_messages_not_sent_instead_of_stuck(org, customers, send_campaign):
    GatewayConfig.objects.create(org=org, channel="sms", kind="http", settings={"timeout": 5})
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_submit_failed": 10}
    assert set(Message.objects.filter(campaign=campaign).values_list("gateway_error", flat=True)) == {"config:KeyError"}
