"""Click webhooks: each click by a person reaches the org's own endpoint, signed, at least once, never to a private
address; the webhooks page sets it up for the user's own orgs only."""

import hashlib
import hmac
import html
import json
import re
import socket
import ssl
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Template
from delivery.models import Message
from insights.models import ClickWebhook
from insights.tasks import click_webhooks_deliver_task
from insights.webhooks import calls, webhook_setup
from insights.webhooks import deliveries as click_webhooks
from linktrack.celery import app as celery_app
from linktrack.models import Click, ShortLink
from tests.factories import MembershipFactory, dispatched_campaign
from tests.local_peers import http_peer, self_signed_certificate

ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
PREVIEW_BOT = "WhatsApp/2.23.20.0 A"


# --- A receiver: a real HTTP server on this machine -----------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def click_ids(self) -> list[int]:
        return [click["id"] for click in self.json["clicks"]]


@dataclass
class Receiver:
    """Answers each POST as its script says: ("ok",), ("status", code), ("slow", seconds), ("garbage",),
    ("redirect", location). The last entry repeats when the script runs out."""

    url: str = ""
    script: list[tuple] = field(default_factory=lambda: [("ok",)])
    calls: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> tuple:
        with self.lock:
            return self.script[min(len(self.calls) - 1, len(self.script) - 1)]


@contextmanager
def running_receiver(tls: ssl.SSLContext | None = None):
    fake = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with fake.lock:
                fake.calls.append(Received(self.path, dict(self.headers), body))
            kind, *args = fake.answer()
            try:
                if kind == "garbage":
                    self.wfile.write(b"\x00\x01 this is not HTTP at all\r\n\r\n")
                    return
                if kind == "slow":
                    time.sleep(args[0])
                status = {"status": args[0] if args else 200, "redirect": 302}.get(kind, 200)
                self.send_response(status)
                if kind == "redirect":
                    self.send_header("Location", args[0])
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            except (BrokenPipeError, ConnectionResetError):
                pass  # linktrack stopped waiting (the slow answer)

        def log_message(self, *args):
            pass

    with http_peer(Handler, tls) as port:
        fake.url = f"http://127.0.0.1:{port}/linktrack/clicks?source=linktrack"
        yield fake


@pytest.fixture
def receiver():
    with running_receiver() as fake:
        yield fake


def is_from_linktrack(body: bytes, header: str, secret: str) -> bool:
    """What the webhooks page tells receivers to do, word for word."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, signature = fields.get("t", ""), fields.get("v1", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# --- Campaigns, clicks and webhooks ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _receivers_on_this_machine_allowed(settings):
    # The test receiver listens on 127.0.0.1; the address checks themselves are tested with this switched off.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def campaign(template) -> Campaign:
    return dispatched_campaign(template)


def add_clicks(campaign: Campaign, count: int, *, agent: str = ANDROID, bot: bool = False, ago=None, message=True):
    """`count` clicks on the campaign's link, by its recipients in turn; a minute old unless `ago` says otherwise."""
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    link = ShortLink.objects.get(campaign=campaign)
    at = timezone.now() - (ago if ago is not None else timedelta(minutes=1))
    return Click.objects.bulk_create(
        Click(
            event_id=uuid.uuid4().hex,
            short_link=link,
            campaign=campaign,
            message=messages[n % len(messages)] if message else None,
            channel=campaign.template.channel,
            clicked_at=at,
            user_agent=agent,
            is_bot=bot,
        )
        for n in range(count)
    )


@pytest.fixture
def webhook(org, manager, receiver) -> ClickWebhook:
    return webhook_setup.click_webhook_create(org=org, user=manager, url=receiver.url)


def deliver(webhook: ClickWebhook) -> int:
    sent = click_webhooks.click_webhook_deliver(webhook_id=webhook.pk)
    webhook.refresh_from_db()
    return sent


def make_due(webhook: ClickWebhook) -> None:
    ClickWebhook.objects.filter(pk=webhook.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# --- Delivery -------------------------------------------------------------------------------------------------


def test_new_clicks_by_people_are_posted_in_one_batch_signed_so_the_receiver_can_check_it(
    webhook, receiver, campaign, other_org
):
    # given two clicks by people, a link preview, and a click of another org
    human = add_clicks(campaign, 1, agent=ANDROID) + add_clicks(campaign, 1, agent=IPHONE, message=False)
    add_clicks(campaign, 1, agent=PREVIEW_BOT, bot=True)
    other_template = Template.objects.create(org=other_org, name="Other", body="Hi {#var#} - Other")
    add_clicks(dispatched_campaign(other_template, name="Other brand's sale"), 1)

    # when the webhook delivers
    sent = deliver(webhook)

    # then one signed POST carries the two human clicks of this org, oldest first
    assert sent == 2 and len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call.path == "/linktrack/clicks?source=linktrack"
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["User-Agent"] == "linktrack-webhooks"
    assert is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], webhook.secret)
    assert not is_from_linktrack(call.body + b" ", call.headers["X-Linktrack-Signature"], webhook.secret)
    first_message = Message.objects.get(pk=human[0].message_id)
    assert call.json == {
        "clicks": [
            {
                "id": human[0].pk,
                "clicked_at": human[0].clicked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "campaign_id": campaign.pk,
                "campaign_name": "Diwali sale",
                "channel": "sms",
                "link": "https://acme.test/sale",
                "recipient": first_message.recipient,
                "customer_external_id": first_message.customer.external_id,
                "device": "Android",
            },
            {
                "id": human[1].pk,
                "clicked_at": human[1].clicked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "campaign_id": campaign.pk,
                "campaign_name": "Diwali sale",
                "channel": "sms",
                "link": "https://acme.test/sale",
                "recipient": None,
                "customer_external_id": None,
                "device": "iPhone / iPad",
            },
        ]
    }
    # and the cursor moved past them: the next run sends nothing again
    assert webhook.last_click_id == human[1].pk and webhook.last_delivered_at is not None
    assert webhook.next_attempt_at is None and webhook.failures_in_a_row == 0
    assert deliver(webhook) == 0 and len(receiver.calls) == 1


def test_a_webhook_starts_with_the_clicks_after_it_was_set_up_never_the_history(org, manager, receiver, campaign):
    history = add_clicks(campaign, 3)

    webhook = webhook_setup.click_webhook_create(org=org, user=manager, url=receiver.url)
    assert webhook.last_click_id == history[-1].pk
    assert deliver(webhook) == 0 and receiver.calls == []

    new = add_clicks(campaign, 2)
    assert deliver(webhook) == 2 and receiver.calls[0].click_ids == [click.pk for click in new]


def test_a_backlog_goes_out_in_batches_a_few_per_run(webhook, receiver, campaign, monkeypatch):
    monkeypatch.setattr(click_webhooks, "BATCH_SIZE", 2)
    monkeypatch.setattr(click_webhooks, "MAX_BATCHES_PER_RUN", 2)
    clicks = [click.pk for click in add_clicks(campaign, 5)]

    assert deliver(webhook) == 4
    assert [call.click_ids for call in receiver.calls] == [clicks[0:2], clicks[2:4]]
    assert webhook.last_click_id == clicks[3] and webhook.next_attempt_at is None  # due again at the next tick

    assert deliver(webhook) == 1 and receiver.calls[2].click_ids == [clicks[4]]


def test_a_click_stored_moments_ago_waits_and_no_later_click_overtakes_it(webhook, receiver, campaign):
    # given a settled click, then one from just now, then a settled one stored after it (as a flush might)
    settled = add_clicks(campaign, 1)
    fresh = add_clicks(campaign, 1, ago=timedelta(0))
    later = add_clicks(campaign, 1)

    # then only the clicks before the fresh one go now
    assert deliver(webhook) == 1 and receiver.calls[0].click_ids == [settled[0].pk]
    assert webhook.last_click_id == settled[0].pk

    # and once it has settled, it goes with the one after it
    Click.objects.filter(pk=fresh[0].pk).update(clicked_at=timezone.now() - click_webhooks.CLICK_SETTLE)
    assert deliver(webhook) == 2 and receiver.calls[1].click_ids == [fresh[0].pk, later[0].pk]


def test_a_failed_batch_keeps_the_cursor_backs_off_and_the_same_clicks_go_again(webhook, receiver, campaign):
    # given a receiver that fails twice, then takes the clicks
    receiver.script = [("status", 500), ("status", 503), ("ok",)]
    clicks = [click.pk for click in add_clicks(campaign, 3)]
    cursor = webhook.last_click_id

    # when it fails
    before = timezone.now()
    assert deliver(webhook) == 0

    # then the cursor stays, the failure is in words and the next try is 30 s later
    assert webhook.last_click_id == cursor and webhook.failures_in_a_row == 1
    assert (
        webhook.last_error == "Your endpoint answered 500 Internal Server Error; only a 2xx answer counts as received."
    )
    assert before + timedelta(seconds=29) < webhook.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    # and nothing is tried before then
    assert deliver(webhook) == 0 and len(receiver.calls) == 1

    # when it is due again and fails again, the wait doubles
    make_due(webhook)
    deliver(webhook)
    assert webhook.failures_in_a_row == 2 and "503" in webhook.last_error
    assert webhook.next_attempt_at > timezone.now() + timedelta(seconds=55)

    # when it is due and the receiver takes them, the same clicks arrive with the same ids
    make_due(webhook)
    assert deliver(webhook) == 3
    assert [call.click_ids for call in receiver.calls] == [clicks, clicks, clicks]
    assert webhook.last_click_id == clicks[-1] and webhook.failures_in_a_row == 0 and webhook.failing_since is None
    assert webhook.next_attempt_at is None


def test_backoff_doubles_from_30_seconds_to_at_most_an_hour():
    waits = [click_webhooks.backoff(failures).total_seconds() for failures in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (("slow", 1.0), "No answer from 127.0.0.1 within 0.3 seconds."),
        (("garbage",), "127.0.0.1 answered something that is not HTTP"),
        (("redirect", "https://elsewhere.test/hook"), "a redirect to https://elsewhere.test/hook. Redirects are not"),
        (("status", 404), "Your endpoint answered 404 Not Found"),
    ],
)
def test_a_timeout_garbage_a_redirect_or_an_error_is_a_failure_retried_later(
    webhook, receiver, campaign, monkeypatch, answer, words
):
    monkeypatch.setattr(calls, "TIMEOUT_SECONDS", 0.3)
    receiver.script = [answer]
    add_clicks(campaign, 2)
    cursor = webhook.last_click_id

    assert deliver(webhook) == 0

    assert len(receiver.calls) == 1  # a redirect is not followed
    assert words in webhook.last_error
    assert webhook.last_click_id == cursor and webhook.failures_in_a_row == 1 and webhook.next_attempt_at


def test_an_endpoint_that_refuses_the_connection_is_a_failure_in_words(org, manager, campaign):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    webhook = webhook_setup.click_webhook_create(org=org, user=manager, url=f"http://127.0.0.1:{port}/hook")
    add_clicks(campaign, 1)

    assert deliver(webhook) == 0

    assert webhook.last_error.startswith("Could not connect to 127.0.0.1: Connection refused")
    assert webhook.failures_in_a_row == 1


def test_after_24_hours_of_failures_it_stops_says_why_and_resumes_from_its_cursor(
    client, manager, webhook, receiver, campaign
):
    # given a webhook failing for a day
    receiver.script = [("status", 502)]
    missed = [click.pk for click in add_clicks(campaign, 2)]
    cursor = webhook.last_click_id
    ClickWebhook.objects.filter(pk=webhook.pk).update(
        failures_in_a_row=29, failing_since=timezone.now() - timedelta(hours=24, seconds=1)
    )

    # when it fails once more
    deliver(webhook)

    # then it stops, says why on the page, and keeps its cursor
    assert not webhook.is_active and webhook.last_click_id == cursor
    assert "every delivery failed for 24 hours (30 attempts)" in webhook.stopped_reason
    assert "502 Bad Gateway" in webhook.stopped_reason
    client.force_login(manager)
    page = client.get(reverse("insights:webhooks")).content.decode()
    assert "Not delivering." in page and "every delivery failed for 24 hours" in page
    # and nothing more is sent while it is stopped
    make_due(webhook)
    click_webhooks_deliver_task.delay()
    assert len(receiver.calls) == 1

    # when the receiver is fixed and a manager resumes it
    receiver.script = [("ok",)]
    later = [click.pk for click in add_clicks(campaign, 1)]
    client.post(reverse("insights:webhook-resume", args=[webhook.pk]))

    # then the clicks it missed go first, with the ones since
    assert deliver(webhook) == 3
    assert receiver.calls[-1].click_ids == missed + later
    assert webhook.is_active and webhook.failures_in_a_row == 0 and webhook.stopped_reason == ""


def test_a_paused_webhook_sends_nothing_and_resuming_sends_what_came_meanwhile(
    client, manager, webhook, receiver, campaign
):
    client.force_login(manager)
    response = client.post(reverse("insights:webhook-pause", args=[webhook.pk]), follow=True)
    assert "Paused: no clicks go to" in response.content.decode()
    clicks = [click.pk for click in add_clicks(campaign, 2)]

    assert deliver(webhook) == 0 and receiver.calls == []
    assert webhook.stopped_reason.startswith("Paused by manager@acme.test")

    client.post(reverse("insights:webhook-resume", args=[webhook.pk]))
    assert deliver(webhook) == 2 and receiver.calls[0].click_ids == clicks


def test_a_run_holds_its_webhook_so_a_second_run_sends_nothing(webhook, receiver, campaign):
    add_clicks(campaign, 1)
    held = click_webhooks._claim(webhook.pk)

    assert held is not None and held.next_attempt_at > timezone.now()
    assert click_webhooks._claim(webhook.pk) is None
    assert deliver(webhook) == 0 and receiver.calls == []


@pytest.mark.django_db(transaction=True)
def test_a_claimed_row_is_skipped_not_waited_for_on_postgresql(postgres, webhook):
    # given another transaction holding the webhook's row (committed rows: another connection must see it)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM insights_clickwebhook WHERE id = %s FOR UPDATE", [webhook.pk])
            # when this run tries to claim it, it does not wait: it leaves it to the holder
            started = time.monotonic()
            assert click_webhooks._claim(webhook.pk) is None
            assert time.monotonic() - started < 2
            cursor.execute("ROLLBACK")
    finally:
        other.close()


def test_a_delivery_run_costs_the_same_queries_for_3_clicks_as_for_300(webhook, campaign):
    def queries_for(count: int) -> list[str]:
        add_clicks(campaign, count)
        make_due(webhook)
        with CaptureQueriesContext(connection) as captured:
            assert click_webhooks.click_webhook_deliver(webhook_id=webhook.pk) == count
        return [query["sql"] for query in captured.captured_queries]

    few, many = queries_for(3), queries_for(300)

    # claim (a savepoint, the locked read, the lease), the clicks, the cursor
    assert len(few) == len(many) == 6


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


# --- The webhooks page ----------------------------------------------------------------------------------------


def test_a_manager_sets_up_the_orgs_webhook_and_sees_its_secret(client, manager, org, campaign, receiver):
    history = add_clicks(campaign, 2)
    client.force_login(manager)

    response = client.post(reverse("insights:webhooks"), {"org": org.pk, "url": receiver.url}, follow=True)

    webhook = ClickWebhook.objects.get(org=org)
    page = response.content.decode()
    assert webhook.url == receiver.url and webhook.created_by == manager and webhook.is_active
    assert webhook.last_click_id == history[-1].pk
    assert webhook.secret.startswith("whsec_") and len(webhook.secret) > 40
    assert f"<code data-secret>{webhook.secret}</code>" in page
    assert response["Cache-Control"] == "no-store"
    assert "Webhook set up for Acme Retail" in page and 'id="new-webhook"' not in page  # one per org
    # and the page explains how to check a signature and that a click may come twice
    assert "X-Linktrack-Signature: t=&lt;unix time&gt;,v1=&lt;signature&gt;" in page
    assert "hmac.compare_digest" in page and "may arrive more than once" in page


def test_the_pages_signature_check_accepts_a_real_call_and_refuses_a_forged_one(client, manager, webhook, receiver):
    # given the code the page gives receivers
    client.force_login(manager)
    page = client.get(reverse("insights:webhooks")).content.decode()
    code = html.unescape(re.search(r'<pre id="verify-signature">(.*?)</pre>', page, re.S).group(1))
    namespace: dict = {}
    exec(code, namespace)
    check = namespace["is_from_linktrack"]

    # when linktrack calls the receiver
    webhook_setup.click_webhook_send_test(webhook=webhook)
    call = receiver.calls[0]
    header = call.headers["X-Linktrack-Signature"]

    # then the call passes, and an altered body, another secret or an old time do not
    assert check(call.body, header, webhook.secret)
    assert not check(b'{"test":false}', header, webhook.secret)
    assert not check(call.body, header, "whsec_guessed")
    old = int(time.time()) - 600
    replayed = calls.signature(secret=webhook.secret, timestamp=old, body=call.body)
    assert not check(call.body, replayed, webhook.secret)


def test_every_webhook_has_its_own_secret(org, other_org, manager, receiver):
    first = webhook_setup.click_webhook_create(org=org, user=manager, url=receiver.url)
    second = webhook_setup.click_webhook_create(org=other_org, user=manager, url=receiver.url)
    assert first.secret != second.secret


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "Enter the address of your endpoint"),
        ("crm.acme.in/hook", "Write the whole address, starting with https://"),
        ("ftp://crm.acme.in/hook", "Write the whole address, starting with https://"),
        ("http://crm.acme.in/hook", "Use https://: clicks carry your customers"),
        ("https://user:secret@crm.acme.in/hook", "Leave the user name and password out of the address"),
        ("https://10.0.0.5/hook", "10.0.0.5 is a private network address: linktrack calls only addresses on the"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://localhost/hook", "localhost is this machine"),
        ("http://127.0.0.1:8000/hook", "Use https://"),
        ("https://crm.acme.in:99999/hook", "This is not a web address"),
        ("https://crm_acme.in/hook", "cannot call this address as written: check its spelling"),
        ("https://crm.acme.in/my hook", "cannot call this address as written: check its spelling"),
    ],
)
def test_an_address_that_cannot_be_used_is_refused_with_the_reason_beside_the_field(
    settings, client, manager, org, url, words
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(manager)

    response = client.post(reverse("insights:webhooks"), {"org": org.pk, "url": url})

    assert response.status_code == 400
    assert words in response.content.decode().replace("&#x27;", "'")
    assert not ClickWebhook.objects.exists()


def test_http_to_this_machine_is_accepted_while_private_addresses_are_allowed(client, manager, org):
    client.force_login(manager)
    response = client.post(reverse("insights:webhooks"), {"org": org.pk, "url": "http://127.0.0.1:9000/hook"})
    assert response.status_code == 302 and ClickWebhook.objects.get().url == "http://127.0.0.1:9000/hook"


def test_changing_the_address_sends_the_clicks_not_yet_delivered_there_and_tries_at_once(
    client, manager, webhook, receiver, campaign
):
    receiver.script = [("status", 500), ("ok",)]
    clicks = [click.pk for click in add_clicks(campaign, 2)]
    deliver(webhook)
    client.force_login(manager)
    new_url = receiver.url.replace("/linktrack/clicks", "/v2/clicks")

    response = client.post(reverse("insights:webhook-url", args=[webhook.pk]), {f"w{webhook.pk}-url": new_url})
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert webhook.url == new_url and webhook.failures_in_a_row == 0 and webhook.next_attempt_at is None

    assert deliver(webhook) == 2
    assert receiver.calls[-1].path.startswith("/v2/clicks") and receiver.calls[-1].click_ids == clicks


def test_a_bad_new_address_is_shown_beside_the_field_and_changes_nothing(settings, client, manager, webhook):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(manager)

    response = client.post(
        reverse("insights:webhook-url", args=[webhook.pk]), {f"w{webhook.pk}-url": "https://192.168.1.20/hook"}
    )

    assert response.status_code == 400
    assert "192.168.1.20 is a private network address" in response.content.decode()
    webhook.refresh_from_db()
    assert webhook.url.startswith("http://127.0.0.1:")


def test_the_test_event_button_posts_a_signed_test_and_says_what_the_endpoint_answered(
    client, manager, webhook, receiver, campaign
):
    add_clicks(campaign, 2)
    cursor = webhook.last_click_id
    client.force_login(manager)

    response = client.post(reverse("insights:webhook-test", args=[webhook.pk]), follow=True)

    call = receiver.calls[0]
    assert call.json == {"test": True}
    assert is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], webhook.secret)
    page = response.content.decode()
    assert "Test event delivered to" in page and "Your endpoint answered 200 OK in" in page
    webhook.refresh_from_db()
    assert webhook.last_click_id == cursor  # a test moves nothing

    receiver.script = [("status", 401)]
    page = client.post(reverse("insights:webhook-test", args=[webhook.pk]), follow=True).content.decode()
    assert "Test event not delivered to" in page and "answered 401 Unauthorized" in page
    webhook.refresh_from_db()
    assert webhook.failures_in_a_row == 0


def test_rotating_the_secret_signs_the_next_calls_with_the_new_one(client, manager, webhook, receiver, campaign):
    old_secret = webhook.secret
    client.force_login(manager)

    page = client.post(reverse("insights:webhook-rotate-secret", args=[webhook.pk]), follow=True).content.decode()

    webhook.refresh_from_db()
    assert webhook.secret != old_secret and f"<code data-secret>{webhook.secret}</code>" in page
    add_clicks(campaign, 1)
    deliver(webhook)
    call = receiver.calls[0]
    assert is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], webhook.secret)
    assert not is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], old_secret)


def test_another_orgs_webhook_is_a_404_and_stays_out_of_sight(client, outsider, webhook, receiver):
    client.force_login(outsider)

    page = client.get(reverse("insights:webhooks")).content.decode()
    assert webhook.secret not in page and webhook.url not in page and f'data-webhook="{webhook.pk}"' not in page

    for name in ("webhook-pause", "webhook-resume", "webhook-test", "webhook-rotate-secret", "webhook-url"):
        response = client.post(
            reverse(f"insights:{name}", args=[webhook.pk]), {f"w{webhook.pk}-url": "https://x.test/"}
        )
        assert response.status_code == 404, name
    assert receiver.calls == []
    before = (webhook.secret, webhook.url, webhook.is_active)
    webhook.refresh_from_db()
    assert (webhook.secret, webhook.url, webhook.is_active) == before
    # nor can they set one up for the org
    response = client.post(reverse("insights:webhooks"), {"org": webhook.org_id, "url": "https://evil.test/hook"})
    assert response.status_code == 400 and ClickWebhook.objects.count() == 1


def test_support_staff_see_and_pause_every_orgs_webhook_but_not_its_secret(client, support, webhook):
    client.force_login(support)

    page = client.get(reverse("insights:webhooks")).content.decode()
    assert f'data-webhook="{webhook.pk}"' in page and webhook.secret not in page
    assert "Shown to the organisation's own managers only." in page.replace("&#x27;", "'")

    assert client.post(reverse("insights:webhook-pause", args=[webhook.pk])).status_code == 302
    webhook.refresh_from_db()
    assert not webhook.is_active and webhook.stopped_reason.startswith("Paused by support@linktrack.test")


def test_a_member_who_is_also_support_staff_sees_the_secret(client, support, org, webhook):
    MembershipFactory(user=support, org=org)
    client.force_login(support)
    assert webhook.secret in client.get(reverse("insights:webhooks")).content.decode()


def test_the_page_needs_a_login(client, org, webhook):
    response = client.get(reverse("insights:webhooks"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(reverse("insights:webhook-pause", args=[webhook.pk])).status_code == 302
    webhook.refresh_from_db()
    assert webhook.is_active


def test_forms_are_refused_without_the_csrf_token(manager, org, webhook):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    assert client.post(reverse("insights:webhook-pause", args=[webhook.pk])).status_code == 403
    assert client.post(reverse("insights:webhook-rotate-secret", args=[webhook.pk])).status_code == 403
    assert client.post(reverse("insights:webhooks"), {"org": org.pk, "url": "https://a.test/"}).status_code == 403
    before = webhook.secret
    webhook.refresh_from_db()
    assert webhook.is_active and webhook.secret == before
    # and the page's forms carry the token
    assert 'name="csrfmiddlewaretoken"' in client.get(reverse("insights:webhooks")).content.decode()


def test_insights_links_to_the_webhooks_page(client, manager, org):
    client.force_login(manager)
    page = client.get(reverse("insights:overview")).content.decode()
    assert f'id="click-webhooks-link" href="{reverse("insights:webhooks")}"' in page


def test_the_admin_lists_webhooks_read_only_without_the_secret(client, support, webhook):
    client.force_login(support)
    changelist = client.get(reverse("admin:insights_clickwebhook_changelist"))
    change = client.get(reverse("admin:insights_clickwebhook_change", args=[webhook.pk]))
    assert changelist.status_code == change.status_code == 200
    assert webhook.url in changelist.content.decode()
    for page in (changelist, change):
        assert webhook.secret not in page.content.decode()
    assert (
        client.post(reverse("admin:insights_clickwebhook_delete", args=[webhook.pk]), {"post": "yes"}).status_code
        == 403
    )


# --- Beat and Celery ------------------------------------------------------------------------------------------


def test_beat_runs_the_delivery_every_30_seconds():
    entry = django_settings.CELERY_BEAT_SCHEDULE["click-webhooks-deliver"]
    assert entry == {"task": "insights.tasks.click_webhooks_deliver_task", "schedule": 30.0}
    assert entry["task"] in celery_app.tasks


def test_the_periodic_task_delivers_every_due_webhook_through_celery(
    org, other_org, manager, outsider, receiver, campaign, template
):
    # given two orgs' webhooks with new clicks, and one that is waiting out a backoff
    ours = webhook_setup.click_webhook_create(org=org, user=manager, url=receiver.url)
    theirs = webhook_setup.click_webhook_create(org=other_org, user=outsider, url=receiver.url + "&org=other")
    other_template = Template.objects.create(org=other_org, name="Other", body="Hi {#var#} - Other")
    add_clicks(campaign, 2)
    add_clicks(dispatched_campaign(other_template, name="Other brand's sale"), 1)
    ClickWebhook.objects.filter(pk=theirs.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    # when beat's task runs (in-process, as tests run tasks)
    queued = click_webhooks_deliver_task.delay().get()

    # then the due webhook delivered, the waiting one did not
    assert queued == 1
    assert [len(call.click_ids) for call in receiver.calls] == [2]
    ours.refresh_from_db()
    assert ours.last_delivered_at is not None
