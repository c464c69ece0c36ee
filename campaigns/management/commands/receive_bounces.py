"""Receive bounces: the SMTP server the bounce domain's MX points to.

    manage.py receive_bounces --host 0.0.0.0 --port 25

It accepts mail only for the signed addresses of EMAIL_BOUNCE_DOMAIN; every other recipient is refused with 550:
- return paths (bounces+<id>.<signature>@<domain>): each delivery status notification is applied as it arrives
  (delivery/services/bounces.py): applied or changing nothing, 250; not a usable bounce, 550 with the reason; for an email
  still being handed over, 451 (the bouncing server tries again later);
- unsubscribe addresses (unsubscribe+<id>.<signature>@<domain>, the mailto target of List-Unsubscribe): any mail
  to one unsubscribes that email's customer from email, 250.
"""

import logging
import signal
import threading

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from campaigns.customers.opt_out import BY_EMAIL, email_opt_out_confirm, email_opt_out_for_token
from delivery.gateways.email import bounce_address_message_id, unsubscribe_address_token
from delivery.services.bounces import BounceDeferred, BounceRefused, bounce_apply

# A bounce may return the whole original email; nothing this service sends is near this size.
MAX_BOUNCE_BYTES = 10 * 1024 * 1024


class BounceMailbox:
    """aiosmtpd handler: signed bounce addresses only, each bounce applied before the server answers DATA."""

    def __init__(self, *, domain: str):
        self.domain = domain

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        known = bounce_address_message_id(address, domain=self.domain) or unsubscribe_address_token(
            address, domain=self.domain
        )
        if not known:
            return f"550 5.1.1 <{address}>: no such bounce address"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        answers = []
        for recipient in envelope.rcpt_tos:
            token = unsubscribe_address_token(recipient, domain=self.domain)
            answers.append(await (_unsubscribe(token) if token else _apply(envelope.content, recipient)))
        # One answer covers every recipient: refuse only when nothing could be applied.
        if any(answer.startswith("250") for answer in answers):
            return next(answer for answer in answers if answer.startswith("250"))
        return next((answer for answer in answers if answer.startswith("451")), answers[0])


@sync_to_async
def _apply(raw: bytes, recipient: str) -> str:
    close_old_connections()  # a long-running process: drop connections the database has closed meanwhile
    try:
        result = bounce_apply(raw=raw, envelope_recipient=recipient)
    except BounceRefused as refused:
        return f"550 5.6.0 Bounce refused: {_one_line(str(refused))}"
    except BounceDeferred:
        return "451 4.3.0 The email is still being sent; try again later"
    except DatabaseError:
        return "451 4.3.0 Temporary failure; try again later"
    finally:
        close_old_connections()
    return f"250 2.0.0 Bounce for message {result.message_id}: {_one_line(result.note)}"


@sync_to_async
def _unsubscribe(token: str) -> str:
    close_old_connections()
    try:
        opt_out = email_opt_out_for_token(token=token)
        if opt_out is None:
            return "550 5.1.1 The email this address was made for no longer exists"
        changed = email_opt_out_confirm(opt_out=opt_out, how=BY_EMAIL)
    except DatabaseError:
        return "451 4.3.0 Temporary failure; try again later"
    finally:
        close_old_connections()
    return "250 2.0.0 Unsubscribed" if changed else "250 2.0.0 Already unsubscribed"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def bounce_server(*, host: str, port: int, domain: str) -> Controller:
    return Controller(
        BounceMailbox(domain=domain),
        hostname=host,
        port=port,
        server_hostname=domain,
        data_size_limit=MAX_BOUNCE_BYTES,
    )


class Command(BaseCommand):
    help = "Run the SMTP server that receives bounces for EMAIL_BOUNCE_DOMAIN and applies them."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stopped = threading.Event()

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--seconds", type=float, default=0, help="Stop after this long (default: run forever)")

    def handle(self, *args, host: str, port: int, seconds: float, **options):
        domain = settings.EMAIL_BOUNCE_DOMAIN
        if not domain:
            raise CommandError("Set EMAIL_BOUNCE_DOMAIN: without it no email carries a bounce address.")
        if options["verbosity"] < 2:
            # aiosmtpd logs every SMTP command at INFO; what each bounce did is logged by delivery.services.bounces.
            logging.getLogger("mail.log").setLevel(logging.WARNING)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
        server = bounce_server(host=host, port=port, domain=domain)
        try:
            server.start()
        except (OSError, RuntimeError) as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
        self.stdout.write(f"Receiving bounces and unsubscribes for {domain} on {host}:{port}", ending="\n")
        self.stdout.flush()
        try:
            self.stopped.wait(seconds or None)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
        self.stdout.write("Stopped receiving bounces")

    def stop(self) -> None:
        self.stopped.set()
