"""Real peers on this machine for tests of code that calls out: an HTTP(S) server in a thread, a test certificate,
a fake HTTP SMS gateway, a mailbox that refuses some recipients, a Redis server of a test's own, the project under
gunicorn."""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from aiosmtpd.controller import Controller

from tests.services import missing


@contextmanager
def http_peer(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """Serve `handler` on a free loopback port (over TLS with `tls`) until the block ends; yields the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def self_signed_certificate(folder: Path, host: str) -> tuple[str, str]:
    """A certificate for `host` that is its own authority, and its key (skips the test without openssl)."""
    if not shutil.which("openssl"):
        missing("openssl (to make a test certificate)")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
         "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int) -> None:
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            threading.Event().wait(0.01)
    raise AssertionError(f"the bounce server never listened on {port}")


class RefusingMailbox:
    """An aiosmtpd handler: accepts mail except for nobody@ (no such mailbox) and bad.address@ (invalid address)."""

    def __init__(self):
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.startswith("bad.address@"):
            return "553 5.1.3 The recipient address is not a valid RFC-5321 address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 Message accepted for delivery"


@contextmanager
def running_mail_server(handler) -> Iterator[int]:
    """An SMTP server on a free loopback port, delivering to the aiosmtpd `handler`; yields its port."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


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
    The last entry repeats when the script runs out. `delay` seconds pass before every answer; with `drop_repeats`
    a message whose `reference` came before is answered with the same id and not sent again (`sent` counts what
    would reach phones, by reference).
    """

    url: str = ""
    script: list[tuple] = field(default_factory=lambda: [("ok",)])
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0
    drop_repeats: bool = False
    sent: dict[str, int] = field(default_factory=dict)

    def references(self) -> list[str]:
        """The `reference` of every POST received, in order (repeats included)."""
        with self.lock:
            return [request.json.get("reference", "") for request in self.requests]

    def next_answer(self) -> tuple:
        with self.lock:
            index = len(self.requests) - 1
            return self.script[min(index, len(self.script) - 1)]


@contextmanager
def running_http_gateway() -> Iterator[FakeHttpGateway]:
    fake = FakeHttpGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with fake.lock:
                fake.requests.append(RecordedRequest(self.path, dict(self.headers), body, time.monotonic()))
            answer = fake.next_answer()
            kind = answer[0]
            if fake.delay:
                time.sleep(fake.delay)
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
                with fake.lock:
                    if not (fake.drop_repeats and reference in fake.sent):
                        fake.sent[reference] = fake.sent.get(reference, 0) + 1
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
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


class OwnRedis:
    """A redis-server of the test's own on a free loopback port, without persistence unless asked: stopped, stalled
    (SIGSTOP) and resumed (SIGCONT), started again on the same port. Always stopped when the block ends."""

    def __init__(self, *options: str):
        if not shutil.which("redis-server"):
            missing("redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.options = options
        self.folder = tempfile.TemporaryDirectory(prefix="test-redis-")  # where an append-only file would go
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", self.folder.name, "--logfile", "", *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(f"redis-server never answered on port {self.port}") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a stalled server cannot act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def stall(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def own_redis(*options: str) -> Iterator[OwnRedis]:
    server = OwnRedis(*options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.folder.cleanup()


@contextmanager
def running_web_server(**environment: str) -> Iterator[str]:
    """The project under gunicorn with DEBUG off on a free loopback port, with `environment` on top of this test's
    secrets; yields its base URL. Stopped when the block ends."""
    from django.conf import settings

    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        HASHIDS_SALT=settings.HASHIDS_SALT,
        ALLOWED_HOSTS="127.0.0.1",
    )
    env.update(environment)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "linktrack.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--log-level", "warning"],
        cwd=Path(__file__).resolve().parent.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate(timeout=10)
        print(output)
