"""Click webhooks never go to a private address, and over HTTPS the receiver's certificate is checked."""

import socket
import ssl

import pytest

from insights.models import ClickWebhook
from insights.webhooks import calls, webhook_setup
from tests.insights.webhooks.helpers import add_clicks, deliver, is_from_linktrack, make_due, running_receiver
from tests.local_peers import self_signed_certificate

# --- Refusing private addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("127.0.0.1", "Not sent: 127.0.0.1 is a loopback address (this machine)."),
        ("localhost", "Not sent: localhost resolves to"),
        ("10.20.30.40", "Not sent: 10.20.30.40 is a private network address."),
        ("169.254.169.254", "Not sent: 169.254.169.254 is a link-local address (such as a cloud provider's metadata"),
    ],
)
def test_a_private_address_is_refused_at_send_time_and_the_cursor_stays(
    settings, webhook, receiver, campaign, host, words
):
    # given a webhook whose address was accepted while private addresses were allowed
    port = receiver.url.split(":")[2].split("/")[0]
    ClickWebhook.objects.filter(pk=webhook.pk).update(url=f"http://{host}:{port}/hook")
    add_clicks(campaign, 2)
    cursor = webhook.last_click_id

    # when they are not allowed any more
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    assert deliver(webhook) == 0

    # then nothing reached the address, and the page will say why
    assert receiver.calls == []
    assert webhook.last_error.startswith(words)
    assert webhook.last_click_id == cursor and webhook.failures_in_a_row == 1


def test_the_same_address_is_called_when_private_addresses_are_allowed(settings, webhook, receiver, campaign):
    add_clicks(campaign, 2)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    deliver(webhook)
    assert receiver.calls == []

    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    make_due(webhook)
    assert deliver(webhook) == 2 and len(receiver.calls) == 1


def test_a_public_host_is_called_on_the_address_that_was_checked(monkeypatch, receiver):
    # given a name that resolves to a public address (as far as the check sees), and the receiver's port
    port = int(receiver.url.split(":")[2].split("/")[0])
    looked_up = []

    def resolve(host, port, *args, **kwargs):
        looked_up.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    connected_to = []
    monkeypatch.setattr(
        socket, "create_connection", lambda address, *args, **kwargs: connected_to.append(address) or _refuse()
    )

    # when a call is made, then the host is looked up once and the connection goes to that address only
    result = calls.webhook_post(f"http://crm.acme.test:{port}/hook", "whsec_x", b"{}")
    assert looked_up == ["crm.acme.test"] and connected_to == [("93.184.216.34", port)]
    assert not result.ok and result.words.startswith("Could not connect to crm.acme.test")


def _refuse():
    raise ConnectionRefusedError(111, "Connection refused")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for webhooks.test (its own authority), and its key."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), "webhooks.test")


@pytest.fixture
def tls_receiver(certificate, monkeypatch):
    """A receiver over TLS; linktrack trusts the test certificate and finds webhooks.test and other.test at it."""
    cert, key = certificate
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    names_asked = []
    server_side.sni_callback = lambda sock, name, context: names_asked.append(name)

    monkeypatch.setattr(calls, "tls_context", lambda: ssl.create_default_context(cafile=cert))
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        return real_getaddrinfo("127.0.0.1" if host in ("webhooks.test", "other.test") else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with running_receiver(tls=server_side) as fake:
        fake.names_asked = names_asked
        fake.port = int(fake.url.split(":")[2].split("/")[0])
        yield fake


def test_over_https_the_certificate_is_checked_against_the_host_name(org, manager, tls_receiver, campaign):
    # given a webhook at a host name whose certificate linktrack trusts
    url = f"https://webhooks.test:{tls_receiver.port}/linktrack"
    webhook = webhook_setup.click_webhook_create(org=org, user=manager, url=url)
    clicks = [click.pk for click in add_clicks(campaign, 2)]

    # when it delivers, then the clicks arrive over TLS, asked for by name (SNI and Host)
    assert deliver(webhook) == 2
    call = tls_receiver.calls[0]
    assert call.click_ids == clicks and call.headers["Host"] == f"webhooks.test:{tls_receiver.port}"
    assert tls_receiver.names_asked == ["webhooks.test"]
    assert is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], webhook.secret)


def test_a_certificate_for_another_name_is_refused_in_words(org, manager, tls_receiver, campaign):
    webhook = webhook_setup.click_webhook_create(
        org=org, user=manager, url=f"https://other.test:{tls_receiver.port}/linktrack"
    )
    add_clicks(campaign, 1)

    assert deliver(webhook) == 0

    assert tls_receiver.calls == []
    assert webhook.last_error.startswith("The TLS certificate of other.test is not valid: Hostname mismatch")
    assert webhook.failures_in_a_row == 1
