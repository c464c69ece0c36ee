"""Support staff check that a gateway configuration reaches its gateway, sending nothing; the answer is in words and
kept in the gateway log with secrets redacted."""

import re

import pytest
from django.urls import reverse

from delivery.models import GatewayConfig, GatewayExchange
from delivery.support.gateway_check import gateway_connection_check
from tests.delivery.smsc import Smsc
from tests.factories import http_config
from tests.helpers import admin_sign_in
from tests.local_peers import RefusingMailbox, free_port, running_mail_server


@pytest.fixture
def smsc():
    server = Smsc().start()
    yield server
    server.stop()


def _smpp(org, port: int) -> GatewayConfig:
    return GatewayConfig.objects.create(
        org=org,
        channel="sms",
        kind=GatewayConfig.Kind.SMPP,
        settings={"host": "127.0.0.1", "port": port, "system_id": "acme", "timeout": 2},
        credentials={"password": "sm-pw-77"},
    )


def _email(org, port: int) -> GatewayConfig:
    return GatewayConfig.objects.create(
        org=org,
        channel="email",
        kind=GatewayConfig.Kind.EMAIL,
        settings={"host": "127.0.0.1", "port": port, "from_email": "news@acme.test", "timeout": 2},
    )


def test_an_smpp_gateway_is_bound_and_unbound_and_nothing_is_submitted(org, smsc):
    check = gateway_connection_check(config=_smpp(org, smsc.port))
    assert check.ok and check.detail == f"127.0.0.1:{smsc.port} bound 'acme' as a transceiver and unbound"
    assert smsc.binds == [("acme", "sm-pw-77")] and smsc.submits == []


def test_an_smpp_bind_refused_for_its_password_is_reported_and_logged_without_the_password(org, smsc):
    smsc.bind_status = 0x0E  # ESME_RINVPASWD
    config = _smpp(org, smsc.port)
    check = gateway_connection_check(config=config)
    assert not check.ok and "bind_transceiver_resp: Invalid Password" in check.detail
    logged = GatewayExchange.objects.get(operation="check")
    assert logged.gateway_id == config.pk and logged.error == check.detail and "sm-pw-77" not in str(logged.__dict__)


def test_an_email_gateway_connects_and_sends_nothing(org):
    mailbox = RefusingMailbox()
    with running_mail_server(mailbox) as port:
        check = gateway_connection_check(config=_email(org, port))
    assert check.ok and check.detail == f"127.0.0.1:{port} accepted the connection"
    assert mailbox.received == []


@pytest.mark.parametrize("kind", ["smpp", "email", "http"])
def test_nothing_listening_is_an_error_in_words(org, kind):
    port = free_port()
    config = {"smpp": _smpp, "email": _email}.get(kind, lambda o, p: http_config(o, f"http://127.0.0.1:{p}/sms"))(
        org, port
    )
    check = gateway_connection_check(config=config)
    assert not check.ok and "Connection refused" in check.detail


def test_an_http_gateway_is_reached_without_a_request(org, http_gateway):
    check = gateway_connection_check(config=http_config(org, http_gateway.url))
    host_port = re.match(r"http://([^/]+)/", http_gateway.url).group(1)
    assert check.ok and check.detail == f"{host_port} accepted a connection (no message was sent)"
    assert http_gateway.requests == []


def test_support_staff_check_from_the_admin_list_and_see_the_answer(client, support, org, smsc):
    config = _smpp(org, smsc.port)
    admin_sign_in(client, support)
    response = client.post(
        reverse("admin:delivery_gatewayconfig_changelist"),
        {"action": "check_connection", "_selected_action": [config.pk]},
        follow=True,
    )
    assert f"{config}: reached in " in response.content.decode()
    assert GatewayExchange.objects.filter(operation="check", error="").count() == 1
