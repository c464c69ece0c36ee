"""What an SMSC sends in deliver_sm: delivery receipts (their id in the form the submit answer gave) and customers'
replies, read into the project's terms. The SMPP adapter (delivery.gateways.smpp) binds and submits."""

import re
from dataclasses import dataclass

import phonenumbers

from campaigns.base.phone_numbers import DEFAULT_REGION
from delivery.gateways.base import Receipt
from delivery.gateways.codes import (
    SMPP_MESSAGE_STATES,
    smpp_receipt_reason,
)
from delivery.gateways.smpp_text import decode_sms
from delivery.gateways.webhooks import InboundReply

# esm_class bits 5-2 of a deliver_sm: 0 for a customer's message; receipts, acknowledgements, notifications otherwise.
_ESM_MESSAGE_TYPE = 0x3C


_RECEIPT_TEXT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>\w+)(?:.*?err:(?P<err>\w+))?", re.IGNORECASE | re.DOTALL)


def canonical_id(message_id: str, base: int | None = None) -> str:
    """One spelling per SMPP message id. SMSCs often answer submit_sm in hex and report receipts in decimal (or
    the reverse): with the base of each declared in the gateway settings, both become the same decimal string.
    Without a declared base the id is kept as sent, less leading zeros, in upper case (guessing the base would
    make "100" and "64" the same message)."""
    raw = message_id.strip()
    if base in (10, 16):
        try:
            return str(int(raw, base))
        except ValueError:
            return raw
    return (raw.lstrip("0") or "0").upper() if re.fullmatch(r"[0-9a-fA-F]+", raw) else raw


def pdu_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.rstrip(b"\x00").decode("latin-1")
    return str(value)


@dataclass(frozen=True)
class SmppReply:
    """A customer's message that came as a deliver_sm, with the line kept in the gateway log."""

    reply: InboundReply | None  # None when it is not read: unreadable, or one part of a concatenated message
    raw: str
    problem: str = ""  # why it was not read, in words


def reply_sender(source_addr: str, ton: int) -> str:
    """The sender of a reply in E.164 as its type of number says: international (1) has the country code,
    national (2) is India's, unknown (0) is read as Indian first and then as international. Anything else
    (alphanumeric, abbreviated) or a number that does not parse is kept as sent: it matches no customer."""
    number = source_addr.strip()
    if ton == 1:
        candidates = [(f"+{number.lstrip('+')}", None)]
    elif ton == 2:
        candidates = [(number, DEFAULT_REGION)]
    elif ton == 0:
        candidates = [(number, DEFAULT_REGION), (f"+{number.lstrip('+')}", None)]
    else:
        return number
    parsed = []
    for candidate, region in candidates:
        try:
            parsed.append(phonenumbers.parse(candidate, region))
        except phonenumbers.NumberParseException:
            continue
    for found in sorted(parsed, key=lambda found: not phonenumbers.is_valid_number(found)):
        return phonenumbers.format_number(found, phonenumbers.PhoneNumberFormat.E164)
    return number


def reply_from_deliver_sm(pdu) -> SmppReply:
    """A deliver_sm that is not a receipt, read as the customer's reply (what inbound_replies_apply takes).

    Never raises: what cannot be read comes back without a reply and with the problem in words. One part of a
    concatenated message is not read either (a STOP is one short part, and a part alone could read as one).
    """
    source_addr = pdu_text(getattr(pdu, "source_addr", b""))
    ton, npi = int(getattr(pdu, "source_addr_ton", 0) or 0), int(getattr(pdu, "source_addr_npi", 0) or 0)
    data_coding, esm_class = int(getattr(pdu, "data_coding", 0) or 0), int(getattr(pdu, "esm_class", 0) or 0)
    short_message = getattr(pdu, "short_message", None) or getattr(pdu, "message_payload", None) or b""
    if isinstance(short_message, str):
        short_message = short_message.encode("latin-1", errors="replace")
    raw = (f"deliver_sm seq {getattr(pdu, 'sequence', '?')} from {source_addr!r} (ton {ton} npi {npi}) to "
           f"{pdu_text(getattr(pdu, 'destination_addr', b''))!r} data_coding {data_coding} esm_class 0x{esm_class:02X} "
           f"{short_message.hex()}")  # fmt: skip
    if getattr(pdu, "unreadable", ""):
        raw_pdu = getattr(pdu, "raw_pdu", b"")
        return SmppReply(None, f"{raw} (PDU {raw_pdu.hex()})", pdu.unreadable)
    if esm_class & _ESM_MESSAGE_TYPE:
        return SmppReply(None, raw, f"a receipt or notification (esm_class 0x{esm_class:02X}) without a message id")
    try:
        received = decode_sms(bytes(short_message), data_coding=data_coding, esm_class=esm_class)
        sar_total = int(getattr(pdu, "sar_total_segments", 0) or 0)
        part, parts = (received.part, received.parts) if sar_total <= 1 else (
            int(getattr(pdu, "sar_segment_seqnum", 0) or 0), sar_total)  # fmt: skip
        if parts > 1:
            return SmppReply(None, raw, f"part {part} of {parts} of a concatenated reply: not read")
        sender = reply_sender(source_addr, ton)
    except Exception as error:  # a reply is the customer's text: nothing in it may stop the listener
        return SmppReply(None, raw, f"the reply could not be read: {error}")
    return SmppReply(InboundReply(sender, received.text), f"{raw} text {received.text!r} from {sender}")


def receipt_from_deliver_sm(pdu, id_base: int | None = None) -> Receipt | None:
    """The receipt a deliver_sm carries, or None when it is an ordinary message (a reply)."""
    text = pdu_text(getattr(pdu, "short_message", b""))
    match = _RECEIPT_TEXT.search(text)
    tlv_id = pdu_text(getattr(pdu, "receipted_message_id", None))
    tlv_state = getattr(pdu, "message_state", None)
    is_receipt = bool((getattr(pdu, "esm_class", 0) or 0) & 0x04) or bool(tlv_id)
    if not is_receipt and not match:
        return None
    message_id = tlv_id or (match.group("id") if match else "")
    if not message_id:
        return None
    stat = match.group("stat") if match else SMPP_MESSAGE_STATES.get(int(tlv_state or 0), "UNKNOWN")
    if tlv_state and not match:
        stat = SMPP_MESSAGE_STATES.get(int(tlv_state), "UNKNOWN")
    err = (match.group("err") or "") if match else ""
    state, reason = smpp_receipt_reason(stat, err)
    gateway_error = (
        f"{stat.upper()}:{err}" if err and err.strip("0") else ("" if state == "delivered" else stat.upper())
    )
    return Receipt(canonical_id(message_id, id_base), state, reason, gateway_error, raw=text or f"TLV {tlv_id}")
