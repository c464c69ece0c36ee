"""Helpers of the click webhook tests: a receiver on this machine, clicks on a campaign's link, a delivery run."""

import hashlib
import hmac
import json
import ssl
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Message
from insights.models import ClickWebhook
from insights.webhooks import deliveries as click_webhooks
from linktrack.models import Click, ShortLink
from tests.factories import store_clicks
from tests.local_peers import http_peer

ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


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


def is_from_linktrack(body: bytes, header: str, secret: str) -> bool:
    """What the webhooks page tells receivers to do, word for word."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, signature = fields.get("t", ""), fields.get("v1", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def add_clicks(campaign: Campaign, count: int, *, agent: str = ANDROID, bot: bool = False, ago=None, message=True):
    """`count` clicks on the campaign's link, by its recipients in turn; a minute old unless `ago` says otherwise."""
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    link = ShortLink.objects.get(campaign=campaign)
    at = timezone.now() - (ago if ago is not None else timedelta(minutes=1))
    return store_clicks(
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


def deliver(webhook: ClickWebhook) -> int:
    sent = click_webhooks.click_webhook_deliver(webhook_id=webhook.pk)
    webhook.refresh_from_db()
    return sent


def make_due(webhook: ClickWebhook) -> None:
    ClickWebhook.objects.filter(pk=webhook.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
