"""The one interface every gateway adapter implements: send a batch, and turn what it reports into receipts."""

import re
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: int
    channel: str
    recipient: str
    body: str
    sender: str = ""
    dlt_entity_id: str = ""
    dlt_template_id: str = ""
    promotional: bool = False
    subject: str = ""
    html_body: str = ""


@dataclass(frozen=True)
class Exchange:
    """One request to a gateway and what came back, for the per-message gateway log."""

    operation: str  # "submit", "receipt", "inbound"
    request: str = ""
    response: str = ""
    error: str = ""
    duration_ms: int = 0


@dataclass(frozen=True)
class SubmitResult:
    message_id: int
    accepted: bool
    gateway_message_id: str = ""
    reason_code: str = ""  # a not-sent reason when not accepted
    gateway_error: str = ""
    exchanges: tuple[Exchange, ...] = ()


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt in the project's terms, whatever shape the gateway sent."""

    gateway_message_id: str
    state: str  # "delivered", "not_delivered", "pending" (intermediate) or "unknown"
    reason_code: str = ""
    gateway_error: str = ""
    # Other spellings of the same id (an SMPP id in hex in submit_sm_resp and in decimal in the receipt).
    alternative_ids: tuple[str, ...] = field(default=())
    raw: str = ""  # what the gateway sent, for the log

    @property
    def ids(self) -> list[str]:
        return [self.gateway_message_id, *self.alternative_ids]


class Gateway(Protocol):
    name: str

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SubmitResult]: ...

    def connection_check(self) -> str:
        """Reach the gateway without sending anything; what was checked, in words. Raises when it cannot."""
        ...


def redact(text: str, secrets: list[str]) -> str:
    """Replace every secret value, and the value of any credential-looking header or field, by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    if ":" not in text and "=" not in text:
        return text  # no field's value without one (see _SECRET_FIELDS): the search costs more than the check
    return _SECRET_FIELDS.sub(lambda m: m.group(1) + "***", text)


_SECRET_FIELDS = re.compile(
    r"((?:authorization|x-api-key|password|api_key|auth_token|secret)[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|app)\s+)?)(?!\*\*\*|(?:bearer|basic|app)\s)[^\s\"',}&]+",
    re.IGNORECASE,
)
