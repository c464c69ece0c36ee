"""The brand's site for the link-check tests (a real HTTP server on this machine) and campaigns linking to it."""

import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from campaigns.models import Campaign, Template
from campaigns.sending.link_check import campaign_link_checks
from tests.factories import CampaignFactory
from tests.local_peers import http_peer

# --- The brand's site: a real HTTP server on this machine ---------------------------------------------------------


@dataclass
class Site:
    """Answers each path as `pages` says: ("ok", html), ("status", code), ("redirect", status, location),
    ("slow", seconds), ("garbage",). Unknown paths answer 200. Records every request it is sent."""

    base: str = ""
    pages: dict[str, tuple] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def paths(self) -> list[str]:
        with self.lock:
            return [request["path"] for request in self.requests]


@contextmanager
def running_site(tls: ssl.SSLContext | None = None):
    site = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with site.lock:
                site.requests.append({"path": self.path, "headers": dict(self.headers)})
            kind, *args = site.pages.get(self.path.split("?", 1)[0], ("ok", "<title>Sale</title>"))
            try:
                if kind == "garbage":
                    self.wfile.write(b"\x00\x01 this is not HTTP at all\r\n\r\n")
                    return
                if kind == "slow":
                    time.sleep(args[0])
                if kind == "redirect":
                    self.send_response(args[0])
                    self.send_header("Location", args[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = (args[0] if kind == "ok" else f"<title>Error {args[0]}</title>").encode()
                self.send_response(args[0] if kind == "status" else 200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # linktrack stopped waiting (the slow page)

        def log_message(self, *args):
            pass

    with http_peer(Handler, tls) as port:
        site.base = f"http://127.0.0.1:{port}"
        yield site


def _link_campaign(org, sender, *urls: str, utm: dict | None = None) -> Campaign:
    """An SMS campaign whose variables are these links (link tracking is on for the org)."""
    body = "Sale: " + " and ".join("{#var#}" for _ in urls) + " - Acme"
    template = Template.objects.create(org=org, name="Sale", sender=sender, body=body)
    return CampaignFactory(
        org=org,
        name="Diwali sale",
        template=template,
        slot_values=[{"source": "url", "value": url} for url in urls],
        utm_params=utm or {},
    )


def _check_one(campaign: Campaign):
    (check,) = campaign_link_checks(campaign=campaign)
    return check
