"""Gateways are called only at public internet addresses (GATEWAY_ALLOW_PRIVATE_ADDRESSES off, the default): a URL,
callback, SMPP or SMTP host at a private, loopback or link-local address is refused when saved, in words next to its
field, and again before any connection is made, by sending and by Check connection. Redirects are never followed."""

import json
import socket
from http.server import BaseHTTPRequestHandler

import pytest
from django.urls import reverse

from delivery.gateways.base import OutgoingMessage
from delivery.gateways.email import EmailGateway
from delivery.gateways.http import HttpGateway
from delivery.gateways.smpp import SmppGateway
from delivery.models import GatewayConfig, GatewayExchange
from delivery.support.gateway_check import gateway_connection_check
from tests.delivery.support.test_gateway_settings_pages import _http_form
from tests.helpers import admin_sign_in
from tests.local_peers import http_peer

OUTGOING = OutgoingMessage(1, "sms", "+919810000001", "Hi", "ACMERT", "1701160000000000001", "1707160000000000001")
EMAIL = OutgoingMessage(1, "email", "asha@acme.test", "Hi", subject="Sale")


@pytest.fixture(autouse=True)
def _private_addresses_refused(settings):
    settings.GATEWAY_ALLOW_PRIVATE_ADDRESSES = False  # the default, which delivery's tests turn on for their peers


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that listens; `received()` says whether anything connected to it."""
    server = socket.create_server(("127.0.0.1", 0))

    class Listener:
        port = server.getsockname()[1]

        @staticmethod
        def received() -> bool:
            server.settimeout(0.2)
            try:
                server.accept()[0].close()
            except TimeoutError:
                return False
            return True

    yield Listener
    server.close()


@pytest.fixture
def connects(monkeypatch) -> list:
    """Every socket connection attempted during the test (none is made)."""
    attempted = []

    def refuse(sock, address):
        attempted.append(address)
        raise ConnectionRefusedError("tests make no connection here")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempted


# --- Saved ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fields", "field", "words"),
    [
        ("http", {"url": "http://169.254.169.254/latest/meta-data/"}, "url", "169.254.169.254 is a link-local address"),
        ("http", {"callback_url": "http://10.0.0.5:9200/"}, "callback_url", "10.0.0.5 is a private network address"),
        ("http", {"url": "http://localhost:8250/sms"}, "url", "localhost resolves to a loopback address"),
        ("smpp", {"host": "127.0.0.1", "port": "8250"}, "host", "127.0.0.1 is a loopback address (this machine)"),
        ("email", {"host": "10.0.0.5", "port": "25"}, "host", "10.0.0.5 is a private network address"),
    ],
)
def test_a_gateway_at_a_private_address_is_refused_next_to_its_field(client, support, org, kind, fields, field, words):
    client.force_login(support)
    form = {
        "http": _http_form(),
        "smpp": {"channel": "sms", "host": "smsc.acme.test", "port": "2775", "system_id": "acme"},
        "email": {"channel": "email", "host": "smtp.acme.test", "port": "25", "from_email": "offers@acme.test"},
    }[kind]
    response = client.post(reverse("support:gateway-new", args=[org.pk, kind]), {**form, **fields})

    page = response.content.decode()
    assert response.status_code == 200 and f'id="id_{field}_error"' in page
    assert words in page and "calls gateways only at public internet addresses" in page
    assert not GatewayConfig.objects.exists()


def test_the_admin_refuses_a_gateway_at_a_private_address_too(client, support, org):
    admin_sign_in(client, support)
    form = {"org": org.pk, "channel": "sms", "kind": "http", "name": "Metadata", "is_active": "on",
            "settings": json.dumps({"url": "http://169.254.169.254/", "receipt_format": "infobip"})}  # fmt: skip
    response = client.post(reverse("admin:delivery_gatewayconfig_add"), form)
    assert response.status_code == 200 and "url: 169.254.169.254 is a link-local address" in response.content.decode()
    assert not GatewayConfig.objects.exists()


def test_with_the_setting_on_a_gateway_inside_your_network_is_saved(client, support, org, settings):
    settings.GATEWAY_ALLOW_PRIVATE_ADDRESSES = True
    client.force_login(support)
    client.post(reverse("support:gateway-new", args=[org.pk, "http"]), _http_form(url="http://10.0.0.5:9200/sms"))
    assert GatewayConfig.objects.get().settings["url"] == "http://10.0.0.5:9200/sms"


# --- Before connecting ---------------------------------------------------------------------------------------------


def test_sending_to_a_gateway_on_this_machine_is_refused_before_connecting(listener):
    [result] = HttpGateway(url=f"http://127.0.0.1:{listener.port}/sms", max_retries=2).send_batch([OUTGOING])

    assert not result.accepted and (result.reason_code, result.gateway_error) == (
        "gateway_submit_failed",
        "HTTP:address-refused",
    )
    [exchange] = result.exchanges  # refused once, not retried
    assert exchange.error == "not called: 127.0.0.1 is a loopback address (this machine)."
    assert not listener.received()


@pytest.mark.parametrize(
    "make_gateway",
    [
        lambda: HttpGateway(url="http://169.254.169.254/latest/meta-data/"),
        lambda: SmppGateway(host="10.0.0.5", port=9200, system_id="acme"),
        lambda: EmailGateway.from_config({"host": "10.0.0.5", "port": 25, "from_email": "offers@acme.test"}, {}),
    ],
    ids=["http", "smpp", "email"],
)
def test_no_adapter_connects_to_a_private_address(make_gateway, connects):
    gateway = make_gateway()
    message = EMAIL if isinstance(gateway, EmailGateway) else OUTGOING
    [result] = gateway.send_batch([message])

    assert not result.accepted and result.reason_code == "gateway_submit_failed"
    assert result.gateway_error.endswith(":address-refused")
    assert "not called: " in result.exchanges[-1].error
    assert connects == []


@pytest.mark.parametrize("kind", ["http", "smpp", "email"])
def test_check_connection_is_no_port_probe(org, listener, kind):
    # given a gateway saved while private addresses were allowed, pointing at a port on this machine
    options = {
        "http": {"url": f"http://127.0.0.1:{listener.port}/", "receipt_format": "infobip"},
        "smpp": {"host": "127.0.0.1", "port": listener.port, "system_id": "acme"},
        "email": {"host": "127.0.0.1", "port": listener.port, "from_email": "offers@acme.test"},
    }[kind]
    channel = "email" if kind == "email" else "sms"
    config = GatewayConfig.objects.create(org=org, channel=channel, kind=kind, settings=options)

    check = gateway_connection_check(config=config)

    assert not check.ok and "127.0.0.1 is a loopback address (this machine)" in check.detail
    assert not listener.received()
    assert GatewayExchange.objects.get(gateway=config, operation="check").error == check.detail


# --- Redirects -----------------------------------------------------------------------------------------------------


class _Redirects(BaseHTTPRequestHandler):
    target = ""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_redirect_is_a_bad_response_recorded_and_never_followed(settings, listener):
    settings.GATEWAY_ALLOW_PRIVATE_ADDRESSES = True  # the gateway is a peer on this machine
    _Redirects.target = f"http://127.0.0.1:{listener.port}/elsewhere"
    with http_peer(_Redirects) as port:
        [result] = HttpGateway(
            url=f"http://127.0.0.1:{port}/sms", api_key="key-123", timeout=1, max_retries=0
        ).send_batch([OUTGOING])

    assert not result.accepted
    assert (result.reason_code, result.gateway_error) == ("gateway_bad_response", "HTTP:302:redirect")
    [exchange] = result.exchanges
    assert exchange.response.startswith("HTTP 302")
    assert not listener.received()  # neither the message nor the API key went where the answer pointed
