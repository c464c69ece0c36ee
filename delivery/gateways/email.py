"""Email through Django's email backends: SMTP in production, a local outbox (file or memory) when embedded.

The SMTP server's answer for each recipient is the receipt: accepted means delivered to the receiving server,
a refused recipient is a mailbox that does not exist or is unavailable (5.1.1, 5.2.x), or an address the
server considers invalid (5.1.3, 501, 553).
"""

import contextlib
import smtplib
import time
from dataclasses import dataclass, field
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from delivery.gateways.base import Exchange, OutgoingMessage, Receipt, SubmitResult

_INVALID_ADDRESS_CODES = {501, 553}


@dataclass
class EmailGateway:
    backend: str
    from_email: str
    connection_options: dict = field(default_factory=dict)
    name: str = "email"
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
        backend = options.get("backend") or (
            "django.core.mail.backends.smtp.EmailBackend" if options.get("host") else settings.EMAIL_BACKEND
        )
        return cls(
            backend=backend,
            from_email=options.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            connection_options=connection_options,
        )

    def drain_receipts(self) -> list[Receipt]:
        receipts, self.receipts = self.receipts, []
        return receipts

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        started = time.monotonic()
        connection = get_connection(self.backend, fail_silently=False, **self.connection_options)
        try:
            connection.open()
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
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=self.from_email,
            to=[message.recipient],
            headers={"Message-ID": message_id},
            connection=connection,
        )
        if message.html_body:
            email.attach_alternative(message.html_body, "text/html")
        request = f"MAIL FROM:<{self.from_email}> RCPT TO:<{message.recipient}> Subject: {message.subject}"

        def exchange(response: str = "", error: str = "") -> tuple[Exchange, ...]:
            return (Exchange("submit", request, response, error, int((time.monotonic() - started) * 1000)),)

        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as refused:
            code, text = next(iter(refused.recipients.values()))
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
            reason = "email_invalid_address" if _is_invalid_address(code, text) else "email_mailbox_unavailable"
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


def _is_invalid_address(code: int, text: str) -> bool:
    return code in _INVALID_ADDRESS_CODES or "5.1.3" in text
