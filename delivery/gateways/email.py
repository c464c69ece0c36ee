"""Email through Django's email backends: SMTP in production, a local outbox (file or memory) when embedded.

The SMTP server's answer for each recipient is the receipt: accepted means delivered to the receiving server,
a refused recipient is a mailbox that does not exist or is unavailable (5.1.1, 5.2.x), or an address the
server considers invalid (5.1.3, 501, 553).

When EMAIL_BOUNCE_DOMAIN is set, each email goes out with its own envelope sender (return path)
`bounces+<token>@<bounce domain>`: the token is the message's id and a signature keyed by SECRET_KEY, so a bounce
that arrives later (delivery/services/bounces.py) names its message and cannot be forged for another. The From header stays
the gateway's from address.

Every email also carries its own unsubscribe link, `<PUBLIC_BASE_URL>/u/<token>`: in List-Unsubscribe (RFC 2369)
with the one-click POST of RFC 8058, and in a footer of each part. The token is the message's id and a signature
made as the return path's is (with its own salt), so it names one message and cannot be forged for another;
campaigns/customers/opt_out.py reads it. The footer is added here, per message at send time, after the campaign's links were
rewritten, so it is never a tracked short link.

An SMTP server a gateway names (rather than the deployment's own EMAIL_* settings) is checked before connecting, as
every gateway's host is (delivery.gateways.addresses), and the connection goes to the address that was checked,
while TLS still checks the certificate against the server's name.
"""

import contextlib
import html
import re
import smtplib
import time
from dataclasses import dataclass, field
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from delivery.gateways import addresses
from delivery.gateways.base import Exchange, OutgoingMessage, Receipt, SubmitResult
from linktrack.common.absolute_urls import public_url

_INVALID_ADDRESS_CODES = {501, 553}
# Enhanced status codes (RFC 3463) that mean the address itself is wrong: bad syntax (5.1.3), or a domain that
# does not receive mail at all (5.1.2), most often a typo such as "gmial.com". Correcting the address is what
# helps, so they are "invalid address"; every other refusal of the address or the mailbox (5.1.1 no such user,
# 5.2.x disabled or full, 5.7.x refused by policy, ...) is "mailbox unavailable". 5.1.10 stays there too: RFC 7505
# gives it to a domain with a null MX, but Microsoft's servers send it for a mailbox that does not exist.
_INVALID_ADDRESS_STATUSES = {"5.1.2", "5.1.3"}
_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BOUNCE_LOCAL_PART = "bounces"
_UNSUBSCRIBE_LOCAL_PART = "unsubscribe"
_BOUNCE_SALT = "delivery.email.bounce-address"
_UNSUBSCRIBE_SALT = "delivery.email.unsubscribe-link"
_SIGNATURE_LENGTH = 16  # hex digits: 64 bits
# A message id as tokens write it; no sign or leading zero, so one message has one token.
_TOKEN_MESSAGE_ID = re.compile(r"[1-9][0-9]{0,17}")
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


class _CheckedAddress:
    """smtplib's connection, to an address already checked instead of a second lookup of the name."""

    address = ""

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(self.address or host, port, timeout)


class CheckedSMTPBackend(SMTPBackend):
    """Django's SMTP backend, calling only an address the gateway rules allow; raises addresses.Refused from open()
    before any connection is made."""

    def __init__(self, *args, allow_private: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_private = allow_private
        self.address = ""

    @property
    def connection_class(self):
        smtp = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        return type(f"Checked{smtp.__name__}", (_CheckedAddress, smtp), {"address": self.address})

    def open(self):
        if self.connection:
            return False
        self.address = addresses.address_to_call(self.host, self.port, allow_private=self.allow_private)
        return super().open()


CHECKED_SMTP_BACKEND = f"{CheckedSMTPBackend.__module__}.{CheckedSMTPBackend.__qualname__}"


@dataclass
class EmailGateway:
    backend: str
    from_email: str
    connection_options: dict = field(default_factory=dict)
    bounce_domain: str = ""
    name: str = "email"
    allow_private: bool = field(default_factory=addresses.allow_private)
    receipts: list[Receipt] = field(default_factory=list)

    @classmethod
    def from_config(cls, options: dict, secrets: dict) -> "EmailGateway":
        connection_options = {}
        if options.get("host"):
            connection_options = {
                "host": options["host"],
                "port": int(options.get("port", 25)),
                "username": secrets.get("username", options.get("username", "")),
                "password": secrets.get("password", ""),
                "use_tls": bool(options.get("use_tls", False)),
                "use_ssl": bool(options.get("use_ssl", False)),
                "timeout": float(options.get("timeout", 10)),
            }
        backend = options.get("backend") or (CHECKED_SMTP_BACKEND if options.get("host") else settings.EMAIL_BACKEND)
        return cls(
            backend=backend,
            from_email=options.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            connection_options=connection_options,
            bounce_domain=settings.EMAIL_BOUNCE_DOMAIN,
        )

    def drain_receipts(self) -> list[Receipt]:
        receipts, self.receipts = self.receipts, []
        return receipts

    def _connection(self):
        options = dict(self.connection_options)
        if self.backend == CHECKED_SMTP_BACKEND:
            options["allow_private"] = self.allow_private
        return get_connection(self.backend, fail_silently=False, **options)

    def connection_check(self) -> str:
        """Connect, say hello, start TLS and log in as a send would, then quit without sending."""
        connection = self._connection()
        connection.open()
        connection.close()
        host = self.connection_options.get("host")
        if not host:
            return f"email goes through {self.backend.rsplit('.', 1)[0]}, which needs no connection"
        login = " and the login" if self.connection_options.get("password") else ""
        return f"{host}:{self.connection_options.get('port', 25)} accepted the connection{login}"

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        started = time.monotonic()
        connection = self._connection()
        try:
            connection.open()
        except addresses.Refused as refused:  # nothing was sent: no connection was made
            return self._all_failed(
                messages, "gateway_submit_failed", "SMTP:address-refused", f"not called: {refused}", started
            )
        except TimeoutError as error:
            return self._all_failed(messages, "gateway_timeout", "SMTP:timeout", str(error), started)
        except (OSError, smtplib.SMTPException) as error:
            return self._all_failed(messages, "gateway_submit_failed", "SMTP:connect", repr(error), started)
        try:
            return [self._send_one(connection, message) for message in messages]
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.close()

    def _send_one(self, connection, message: OutgoingMessage) -> SubmitResult:
        started = time.monotonic()
        message_id = make_msgid(domain=self.from_email.rpartition("@")[2] or "localhost")
        headers = {"Message-ID": message_id}
        envelope_sender = self.from_email
        if self.bounce_domain:
            # Django's backends take the envelope sender from from_email and the header from "From".
            envelope_sender = bounce_address(message_id=message.message_id, domain=self.bounce_domain)
            headers["From"] = self.from_email
        link = unsubscribe_url(message_id=message.message_id)
        mailto = (
            unsubscribe_address(message_id=message.message_id, domain=self.bounce_domain) if self.bounce_domain else ""
        )
        headers.update(unsubscribe_headers(link, mailto))
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=text_with_unsubscribe_footer(message.body, link),
            from_email=envelope_sender,
            to=[message.recipient],
            headers=headers,
            connection=connection,
        )
        if message.html_body:
            email.attach_alternative(html_with_unsubscribe_footer(message.html_body, link), "text/html")
        request = f"MAIL FROM:<{envelope_sender}> RCPT TO:<{message.recipient}> Subject: {message.subject}"

        def exchange(response: str = "", error: str = "") -> tuple[Exchange, ...]:
            return (Exchange("submit", request, response, error, int((time.monotonic() - started) * 1000)),)

        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as refused:
            code, text = next(iter(refused.recipients.values()))
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            reason = "email_invalid_address" if code in _INVALID_ADDRESS_CODES else email_reason_for_status(text)
            self.receipts.append(Receipt(message_id, "not_delivered", reason, f"SMTP:{code}"))
            return SubmitResult(message.message_id, True, message_id, exchanges=exchange(f"{code} {text}"))
        except TimeoutError as error:
            return SubmitResult(
                message.message_id, False, reason_code="gateway_timeout", gateway_error="SMTP:timeout",
                exchanges=exchange(error=str(error)),
            )  # fmt: skip
        except smtplib.SMTPResponseException as error:
            return SubmitResult(
                message.message_id, False, reason_code="gateway_other", gateway_error=f"SMTP:{error.smtp_code}",
                exchanges=exchange(error=f"{error.smtp_code} {error.smtp_error!r}"),
            )  # fmt: skip
        except (OSError, smtplib.SMTPException) as error:
            return SubmitResult(
                message.message_id, False, reason_code="gateway_submit_failed", gateway_error="SMTP:error",
                exchanges=exchange(error=repr(error)),
            )  # fmt: skip
        self.receipts.append(Receipt(message_id, "delivered"))
        return SubmitResult(message.message_id, True, message_id, exchanges=exchange("250 accepted"))

    def _all_failed(self, messages, reason_code, gateway_error, error, started) -> list[SubmitResult]:
        log = (Exchange("submit", f"connect {self.connection_options.get('host', self.backend)}", "", error,
                        int((time.monotonic() - started) * 1000)),)  # fmt: skip
        return [SubmitResult(m.message_id, False, "", reason_code, gateway_error, log) for m in messages]


def email_reason_for_status(text: str) -> str:
    """The not-delivered reason of a permanent refusal, from the enhanced status code in `text` (if any)."""
    status = enhanced_status(text)
    return "email_invalid_address" if status in _INVALID_ADDRESS_STATUSES else "email_mailbox_unavailable"


def enhanced_status(text: str) -> str:
    """The first enhanced status code (RFC 3463, e.g. 5.1.1) in `text`, without leading zeros; "" if none."""
    found = _ENHANCED_STATUS.search(text or "")
    return ".".join(str(int(part)) for part in found.groups()) if found else ""


def bounce_address(*, message_id: int, domain: str) -> str:
    """The return path of one message: bounces+<id>.<signature>@<domain>, all lower case (some servers fold case)."""
    return f"{_BOUNCE_LOCAL_PART}+{_message_token(message_id, _BOUNCE_SALT)}@{domain.lower()}"


def bounce_address_message_id(address: str, *, domain: str) -> int | None:
    """The message id a bounce address names, or None when it is not a correctly signed one of `domain`."""
    token = _address_token(address, domain=domain, local_part=_BOUNCE_LOCAL_PART)
    return _token_message_id(token, _BOUNCE_SALT) if token else None


def unsubscribe_address(*, message_id: int, domain: str) -> str:
    """The mailto target of List-Unsubscribe: unsubscribe+<unsubscribe token>@<bounce domain>."""
    return f"{_UNSUBSCRIBE_LOCAL_PART}+{unsubscribe_token(message_id=message_id)}@{domain.lower()}"


def unsubscribe_address_token(address: str, *, domain: str) -> str | None:
    """The unsubscribe token of a correctly signed unsubscribe address of `domain`, else None."""
    token = _address_token(address, domain=domain, local_part=_UNSUBSCRIBE_LOCAL_PART)
    return token if token and unsubscribe_token_message_id(token) is not None else None


def _address_token(address: str, *, domain: str, local_part: str) -> str | None:
    """The token after "+" in <local_part>+<token>@<domain>, unchecked; None when the address is not of that form."""
    address_local_part, _, address_domain = address.strip().strip("<>").rpartition("@")
    prefix, _, token = address_local_part.partition("+")
    if not domain or address_domain.lower() != domain.lower() or prefix.lower() != local_part:
        return None
    return token


def unsubscribe_token(*, message_id: int) -> str:
    """The URL-safe token of one message's unsubscribe link: <id>.<signature>."""
    return _message_token(message_id, _UNSUBSCRIBE_SALT)


def unsubscribe_token_message_id(token: str) -> int | None:
    """The message id an unsubscribe token names, or None when it is forged, altered or malformed."""
    return _token_message_id(token, _UNSUBSCRIBE_SALT)


def unsubscribe_url(*, message_id: int) -> str:
    return public_url(reverse("email-unsubscribe", kwargs={"token": unsubscribe_token(message_id=message_id)}))


def unsubscribe_headers(link: str, mailto: str = "") -> dict[str, str]:
    """List-Unsubscribe (RFC 2369) with the one-click POST of RFC 8058, which Gmail and Yahoo ask bulk senders for;
    with a bounce domain, also a mailto target for mail apps that unsubscribe by email."""
    targets = f"<{link}>, <mailto:{mailto}?subject=unsubscribe>" if mailto else f"<{link}>"
    return {"List-Unsubscribe": targets, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def text_with_unsubscribe_footer(body: str, link: str) -> str:
    return f"{body.rstrip()}\n\n--\nUnsubscribe: {link}\n"


def html_with_unsubscribe_footer(markup: str, link: str) -> str:
    """The HTML part with an unsubscribe link before its last </body> (at its end when it has none)."""
    footer = (
        '<p style="font-size:12px;color:#5b6470;margin-top:24px">'
        f'<a href="{html.escape(link)}" style="color:#5b6470">Unsubscribe</a></p>'
    )
    ends = list(_BODY_END.finditer(markup))
    if not ends:
        return markup + footer
    return markup[: ends[-1].start()] + footer + markup[ends[-1].start() :]


def _message_token(message_id: int, salt: str) -> str:
    return f"{message_id}.{_message_signature(message_id, salt)}"


def _token_message_id(token: str, salt: str) -> int | None:
    message_id, _, signature = token.partition(".")
    if not _TOKEN_MESSAGE_ID.fullmatch(message_id):
        return None
    # Bounces and unsubscribes arrive days after sending: tokens signed before a SECRET_KEY rotation stay valid.
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(
        constant_time_compare(signature.lower(), _message_signature(int(message_id), salt, key)) for key in keys
    ):
        return None
    return int(message_id)


def _message_signature(message_id: int, salt: str, secret: str | None = None) -> str:
    """The one signature of message tokens (return paths, unsubscribe links); lower-case hex, as mail may fold case."""
    digest = salted_hmac(salt, str(message_id), secret=secret, algorithm="sha256").hexdigest()
    return digest[:_SIGNATURE_LENGTH]
