"""The one interface every gateway adapter implements: send a batch, and turn what it reports into receipts."""

from dataclasses import dataclass
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


@dataclass(frozen=True)
class SubmitResult:
    message_id: int
    accepted: bool
    gateway_message_id: str = ""
    reason_code: str = ""  # a not-sent reason when not accepted
    gateway_error: str = ""


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt in the project's terms, whatever shape the gateway sent."""

    gateway_message_id: str
    state: str  # "delivered", "not_delivered", "pending" (intermediate) or "unknown"
    reason_code: str = ""
    gateway_error: str = ""


class Gateway(Protocol):
    name: str

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SubmitResult]: ...
