"""Local peers and campaign helpers for the delivery tests."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from campaigns.lifecycle import services as campaign_services
from campaigns.models import Campaign
from delivery.models import GatewayConfig, Message

SLOTS = [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/t"}]


@dataclass
class RecordedRequest:
    path: str
    headers: dict
    body: bytes
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class FakeHttpGateway:
    """A real HTTP server on an ephemeral port that answers each POST as the script says.

    Script entries: ("ok",), ("ok_id", gateway id), ("status", code), ("slow", seconds), ("garbage",),
    ("refuse", code, error_code).
    The last entry repeats when the script runs out.
    """

    url: str = ""
    script: list[tuple] = field(default_factory=lambda: [("ok",)])
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> tuple:
        with self.lock:
            index = len(self.requests) - 1
            return self.script[min(index, len(self.script) - 1)]


@pytest.fixture
def http_gateway():
    fake = FakeHttpGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with fake.lock:
                fake.requests.append(RecordedRequest(self.path, dict(self.headers), body, time.monotonic()))
            answer = fake.next_answer()
            kind = answer[0]
            if kind == "slow":
                time.sleep(answer[1])
                self._reply(200, json.dumps({"message_id": "late"}))
            elif kind == "status":
                self._reply(answer[1], json.dumps({"error": {"code": "server_error"}}))
            elif kind == "garbage":
                self._reply(200, "<html>Service temporarily <b>maybe</b> up</html>", "text/html")
            elif kind == "ok_id":
                self._reply(200, json.dumps({"message_id": answer[1]}))
            elif kind == "refuse":
                self._reply(answer[1], json.dumps({"error": {"code": answer[2], "message": "refused"}}))
            else:
                reference = json.loads(body)["reference"]
                self._reply(200, json.dumps({"message_id": f"gw-{reference}", "status": "accepted"}))

        def _reply(self, status: int, text: str, content_type: str = "application/json"):
            data = text.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the slow answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    yield fake
    server.shutdown()
    server.server_close()


def http_config(org, url: str, **options) -> GatewayConfig:
    settings = {"url": url, "timeout": 2, "max_retries": 2, "backoff": 0.01, "receipt_format": "infobip"}
    settings.update(options)
    return GatewayConfig.objects.create(
        org=org,
        channel="sms",
        kind=GatewayConfig.Kind.HTTP,
        name="Test HTTP gateway",
        settings=settings,
        credentials={"api_key": "sk-live-SECRET-123", "webhook_secret": "whsec-abc-987", "auth_token": "tw-token-42"},
    )


def launch(campaign: Campaign, user, capture) -> Campaign:
    """Launch as the campaign page does; the dispatch and send tasks run in-process on commit."""
    with capture(execute=True):
        campaign_services.campaign_launch(campaign=campaign, user=user)
    campaign.refresh_from_db()
    return campaign


@pytest.fixture
def send_campaign(template, manager, django_capture_on_commit_callbacks):
    """Create and launch a campaign of the org's template to its customers; returns it."""

    def send(name: str = "Delivery test", slot_values=None, use_template=None) -> Campaign:
        chosen = use_template or template
        campaign = campaign_services.campaign_create(
            org=chosen.org,
            user=manager,
            name=name,
            template=chosen,
            slot_values=slot_values if slot_values is not None else SLOTS,
        )
        return launch(campaign, manager, django_capture_on_commit_callbacks)

    return send


def statuses(campaign: Campaign) -> dict[str, int]:
    result: dict[str, int] = {}
    for status, reason in Message.objects.filter(campaign=campaign).values_list("status", "reason_code"):
        key = f"{status}:{reason}" if reason else status
        result[key] = result.get(key, 0) + 1
    return result


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Users are created in nearly every test here; the production hasher's cost adds nothing to what is tested.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
