"""Bounces: delivery status notifications (RFC 3464) that arrive after the SMTP server accepted an email.

An accepted email counts as delivered (delivery/gateways/email.py). When the receiving side fails later, its mail
server sends a DSN (multipart/report; report-type=delivery-status) to the email's return path,
`bounces+<id>.<signature>@<EMAIL_BOUNCE_DOMAIN>`, whose MX is `manage.py receive_bounces`.

What a bounce does, per the Action and Status of the message's recipient in the message/delivery-status part:
- failed, 5.x.x: not delivered. 5.1.2 (no such domain) and 5.1.3 (bad address syntax) are "invalid address";
  every other permanent status (5.1.1 no such user, 5.1.10 as Microsoft uses it, 5.2.x disabled or full, 5.7.x
  refused by policy, ...) is "mailbox unavailable", as for a recipient refused during the SMTP exchange.
- failed, 4.x.x: the sending server kept trying and gave up (e.g. 4.4.7, delivery time expired): not delivered,
  "gateway could not send" (worth a resend, unlike a permanent failure).
- delayed, delivered, relayed, expanded: nothing changes (a delay is followed by a final outcome or by "failed").
The status is kept as the gateway error ("DSN:5.1.1").

For email only, a bounce overrides "delivered": that state only meant "accepted by the receiving server", and the
bounce is the receiving side's later word. Every other final state is kept, so a repeated bounce changes nothing.
This is why bounces are not applied through receipts_apply, which by design only moves messages still waiting.

A bounce is refused, with its reason logged and nothing applied, when its address is not a signed bounce address,
it is not a delivery status notification, it does not say what happened to the message's recipient, or it quotes
the Message-ID of another email. A bounce for an email still being handed over is deferred (the bouncing server
tries again later).
"""

import logging
import re
from dataclasses import dataclass
from email import message_from_string
from email.message import Message as EmailMessage
from email.parser import BytesParser

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delivery.gateways import Exchange, gateway_config_for
from delivery.gateways.email import bounce_address_message_id, email_reason_for_status, enhanced_status
from delivery.models import Message
from delivery.services.handover import exchanges_log

logger = logging.getLogger(__name__)

_DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_HEADERS_TYPES = ("text/rfc822-headers", "message/rfc822", "message/global", "message/global-headers")
_ACTIONS = {"failed", "delayed", "delivered", "relayed", "expanded"}
_LOG_LIMIT = 4000  # characters of the delivery-status part kept in the gateway log
# A bounce may still change these: "delivered" for email means only "accepted by the receiving server".
_BOUNCEABLE = (Message.Status.SENT, Message.Status.DELIVERED)
# The send batch has not saved its outcome yet; applying now would be overwritten, so the bounce waits.
_BEING_SENT = (Message.Status.QUEUED, Message.Status.SUBMITTING)


class BounceRefused(Exception):
    """The bounce cannot be applied; the message says why."""


class BounceDeferred(Exception):
    """The bounce is for an email still being handed over: the bouncing server should try again later."""


@dataclass(frozen=True)
class RecipientReport:
    """One recipient's block of the delivery-status part."""

    final_recipient: str
    original_recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # the enhanced status code, e.g. 5.1.1
    diagnostic: str = ""

    @property
    def is_failure(self) -> bool:
        return self.action == "failed"


@dataclass(frozen=True)
class DeliveryReport:
    """A parsed delivery status notification."""

    reporting_mta: str
    original_message_id: str  # from the returned headers; "" when the bounce returned none
    recipients: tuple[RecipientReport, ...]
    text: str  # the delivery-status part as received, for the gateway log

    def report_for(self, recipient: str) -> RecipientReport | None:
        """The block about `recipient` (a failure first); the only block when it names another address."""
        recipient = recipient.lower()
        named = [r for r in self.recipients if recipient in (r.final_recipient, r.original_recipient)]
        if not named and len(self.recipients) == 1:
            # Forwarding or alias expansion: the failing address is not the one the email was sent to.
            named = list(self.recipients)
        return next((r for r in named if r.is_failure), named[0] if named else None)


@dataclass(frozen=True)
class BounceResult:
    message_id: int
    changed: bool
    note: str  # what the bounce did, in the gateway log's words


def bounce_parse(raw: bytes) -> DeliveryReport:
    """Read a delivery status notification; raises BounceRefused when `raw` is not a usable one."""
    email = BytesParser().parsebytes(raw)
    report = next((part for part in email.walk() if part.get_content_type() == "multipart/report"), None)
    if report is None or (report.get_param("report-type") or "").lower() != "delivery-status":
        raise BounceRefused(f"not a delivery status notification ({email.get_content_type()})")
    parts = report.get_payload()
    status_part = next((p for p in parts if p.get_content_type() in _DELIVERY_STATUS_TYPES), None)
    if status_part is None:
        raise BounceRefused("the report has no delivery-status part")
    text = _body_text(status_part)
    blocks = [message_from_string(block) for block in re.split(r"\n[ \t]*\n", text.strip()) if block.strip()]
    if len(blocks) < 2:
        raise BounceRefused("the delivery-status part has no recipient block")
    recipients = tuple(_recipient_report(block) for block in blocks[1:])
    headers_part = next((p for p in parts if p.get_content_type() in _HEADERS_TYPES), None)
    return DeliveryReport(
        reporting_mta=_field_value(blocks[0].get("Reporting-MTA", "")),
        original_message_id=_original_message_id(headers_part) if headers_part is not None else "",
        recipients=recipients,
        text=text,
    )


def bounce_outcome(recipient_report: RecipientReport) -> tuple[str, str] | None:
    """(not-delivered reason, gateway error) of a final failure; None when the report changes nothing."""
    if not recipient_report.is_failure:
        return None
    if recipient_report.status.startswith("5."):
        return email_reason_for_status(recipient_report.status), f"DSN:{recipient_report.status}"
    if recipient_report.status.startswith("4."):
        return "gateway_failed", f"DSN:{recipient_report.status}"
    raise BounceRefused(f"a failure with the success status {recipient_report.status}")


def bounce_apply(*, raw: bytes, envelope_recipient: str) -> BounceResult:
    """Apply a bounce delivered to `envelope_recipient` (a bounce address). Raises BounceRefused or BounceDeferred."""
    message_id = bounce_address_message_id(envelope_recipient, domain=settings.EMAIL_BOUNCE_DOMAIN)
    if message_id is None:
        raise _refused(f"{envelope_recipient} is not a signed bounce address of {settings.EMAIL_BOUNCE_DOMAIN!r}")
    message = (
        Message.with_proofs.select_related("campaign")
        .only("pk", "status", "recipient", "gateway_message_id", "campaign__org_id")
        .filter(pk=message_id, channel="email")
        .first()
    )
    if message is None:
        raise _refused(f"no email message {message_id} for the bounce to {envelope_recipient}")
    if message.status in _BEING_SENT:
        logger.info("bounce for email message %s deferred: it is still being handed over", message.pk)
        raise BounceDeferred(f"email message {message.pk} is still being handed over")
    try:
        report = bounce_parse(raw)
        recipient_report = report.report_for(message.recipient)
        if recipient_report is None:
            raise BounceRefused(f"the bounce does not say what happened to {message.recipient}")
        if report.original_message_id and _normalized_id(report.original_message_id) != _normalized_id(
            message.gateway_message_id
        ):
            raise BounceRefused(f"the bounce quotes another email ({report.original_message_id})")
        outcome = bounce_outcome(recipient_report)
    except BounceRefused as refused:
        _log(message, request=raw.decode("utf-8", "replace"), error=f"bounce refused: {refused}")
        raise _refused(f"bounce for email message {message.pk} refused: {refused}") from None
    summary = f"{recipient_report.action} {recipient_report.status}"
    if outcome is None:
        _log(message, request=report.text, response=f"{summary}: no change")
        return BounceResult(message.pk, False, f"{summary}: no change")
    reason_code, gateway_error = outcome
    now = timezone.now()
    with transaction.atomic():
        changed = Message.with_proofs.filter(pk=message.pk, status__in=_BOUNCEABLE).update(
            status=Message.Status.NOT_DELIVERED,
            reason_code=reason_code,
            gateway_error=gateway_error,
            finished_at=now,
            updated_at=now,
        )
        note = f"{summary}: not delivered ({reason_code})" if changed else f"{summary}: no change, already final"
        _log(message, request=report.text, response=note)
    logger.info("bounce for email message %s: %s", message.pk, note)
    return BounceResult(message.pk, bool(changed), note)


def _refused(reason: str) -> BounceRefused:
    logger.warning("bounce refused: %s", reason)
    return BounceRefused(reason)


def _log(message: Message, *, request: str, response: str = "", error: str = "") -> None:
    config = gateway_config_for(org_id=message.campaign.org_id, channel="email")
    exchange = Exchange("receipt", request[:_LOG_LIMIT], response, error)
    exchanges_log(config=config, gateway_kind="email", exchanges=[(message.pk, exchange)])


def _body_text(part: EmailMessage) -> str:
    """The body of a message/* part as text (Python parses it into sub-messages; the fields are read here)."""
    text = part.as_string().replace("\r\n", "\n")
    return text.split("\n\n", 1)[1] if "\n\n" in text else ""


def _recipient_report(block: EmailMessage) -> RecipientReport:
    action = (block.get("Action") or "").strip().lower()
    if action not in _ACTIONS:
        raise BounceRefused(f"a recipient block with no known Action ({action or 'none'})")
    raw_status = (block.get("Status") or "").strip()
    status = enhanced_status(raw_status.split()[0] if raw_status else "")
    if not status:
        raise BounceRefused(f"a recipient block with no valid Status ({raw_status or 'none'})")
    final_recipient = _field_value(block.get("Final-Recipient", "")).lower()
    if not final_recipient:
        raise BounceRefused("a recipient block with no Final-Recipient")
    return RecipientReport(
        final_recipient=final_recipient,
        original_recipient=_field_value(block.get("Original-Recipient", "")).lower(),
        action=action,
        status=status,
        diagnostic=" ".join(_field_value(block.get("Diagnostic-Code", ""), keep_type=True).split()),
    )


def _field_value(value: str, *, keep_type: bool = False) -> str:
    """A typed DSN field ("rfc822; a@b.test") without its type, and without the <> some servers add."""
    value = " ".join(str(value).split())
    if keep_type:
        return value
    return value.partition(";")[2].strip().strip("<>") if ";" in value else value.strip("<>")


def _original_message_id(part: EmailMessage) -> str:
    returned = part.get_payload()
    if isinstance(returned, list):  # message/rfc822 and the other message/* types: parsed as a message
        headers = returned[0] if returned else None
    else:  # text/rfc822-headers
        headers = message_from_string((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
    return " ".join(str(headers.get("Message-ID", "")).split()) if headers is not None else ""


def _normalized_id(message_id: str) -> str:
    return message_id.strip().strip("<>").lower()
