"""SMPP 3.4 through smpplib: bind as transceiver, submit_sm (GSM-7 / UCS-2, concatenated with a UDH, DLT ids in
TLVs), and read deliver_sm: receipts (the `id:... stat:... err:...` text and the receipted_message_id /
message_state TLVs) and customers' replies (mobile originated messages, such as "STOP").

Receipts and replies that arrive while a batch is being submitted are collected (drain_receipts, drain_replies);
the rest arrive on the long-running listener (`manage.py smpp_receipts`), which keeps a transceiver bound and
applies them as they come.
"""

import contextlib
import logging
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers
import smpplib.client
import smpplib.command
import smpplib.consts
import smpplib.exceptions
import smpplib.pdu
import smpplib.smpp

from campaigns.base.phone_numbers import DEFAULT_REGION
from delivery.gateways.base import Exchange, OutgoingMessage, Receipt, SubmitResult
from delivery.gateways.codes import (
    SMPP_MESSAGE_STATES,
    SMPP_RETRYABLE_STATUSES,
    smpp_receipt_reason,
    smpp_submit_reason,
)
from delivery.gateways.ratelimit import RateLimiter
from delivery.gateways.smpp_text import decode_sms, encode_sms
from delivery.gateways.webhooks import InboundReply

logger = logging.getLogger(__name__)

# TLVs Indian SMPP gateways read the DLT ids from (vendor range; the tags are settings of the gateway).
DEFAULT_ENTITY_ID_TLV = 0x1400
DEFAULT_TEMPLATE_ID_TLV = 0x1401
# esm_class bits 5-2 of a deliver_sm: 0 for a customer's message; receipts, acknowledgements, notifications otherwise.
_ESM_MESSAGE_TYPE = 0x3C
_RECEIPT_TEXT = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>\w+)(?:.*?err:(?P<err>\w+))?", re.IGNORECASE | re.DOTALL)


class _SubmitWithTlvs(smpplib.command.SubmitSM):
    """submit_sm with extra vendor TLVs appended (smpplib knows only the standard ones)."""

    extra_tlvs: bytes = b""

    def generate(self) -> bytes:
        pdu = super().generate()
        if not self.extra_tlvs:
            return pdu
        pdu += self.extra_tlvs
        return struct.pack(">L", len(pdu)) + pdu[4:]


def _tlv(tag: int, value: str) -> bytes:
    data = value.encode() + b"\x00"
    return struct.pack(">HH", tag, len(data)) + data


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


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.rstrip(b"\x00").decode("latin-1")
    return str(value)


class _Client(smpplib.client.Client):
    """smpplib's client, except that a deliver_sm whose body cannot be parsed (a truncated TLV, a field of the
    wrong size) still comes back, marked `unreadable`, so it is answered and logged instead of ending the session."""

    def read_pdu(self):
        raw_length = self._recv_exact(4)
        (length,) = struct.unpack(">L", raw_length)
        if length < 16:
            raise smpplib.exceptions.PDUError(f"PDU length {length} is shorter than its header")
        raw_pdu = raw_length + self._recv_exact(length - 4)
        try:
            command = smpplib.pdu.extract_command(raw_pdu)
        except smpplib.exceptions.UnknownCommandError as error:
            raise smpplib.exceptions.PDUError(str(error)) from None
        pdu = smpplib.smpp.make_pdu(command, client=self, allow_unknown_opt_params=self.allow_unknown_opt_params)
        pdu.raw_pdu = raw_pdu
        pdu.unreadable = ""
        try:
            pdu.parse(raw_pdu)
        except (struct.error, ValueError, IndexError, TypeError, smpplib.exceptions.UnknownCommandError) as error:
            if pdu.command != "deliver_sm":
                raise smpplib.exceptions.PDUError(f"unreadable {pdu.command}: {error!r}") from None
            pdu.unreadable = f"the deliver_sm could not be parsed ({error!r})"
            return pdu
        if not pdu.is_error() and pdu.command in smpplib.consts.STATE_SETTERS:
            self.state = smpplib.consts.STATE_SETTERS[pdu.command]
        return pdu


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
    source_addr = _text(getattr(pdu, "source_addr", b""))
    ton, npi = int(getattr(pdu, "source_addr_ton", 0) or 0), int(getattr(pdu, "source_addr_npi", 0) or 0)
    data_coding, esm_class = int(getattr(pdu, "data_coding", 0) or 0), int(getattr(pdu, "esm_class", 0) or 0)
    short_message = getattr(pdu, "short_message", None) or getattr(pdu, "message_payload", None) or b""
    if isinstance(short_message, str):
        short_message = short_message.encode("latin-1", errors="replace")
    raw = (f"deliver_sm seq {getattr(pdu, 'sequence', '?')} from {source_addr!r} (ton {ton} npi {npi}) to "
           f"{_text(getattr(pdu, 'destination_addr', b''))!r} data_coding {data_coding} esm_class 0x{esm_class:02X} "
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
    text = _text(getattr(pdu, "short_message", b""))
    match = _RECEIPT_TEXT.search(text)
    tlv_id = _text(getattr(pdu, "receipted_message_id", None))
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


@dataclass
class SmppGateway:
    host: str
    port: int
    system_id: str
    password: str = ""
    system_type: str = ""
    source_ton: int = 5  # alphanumeric header
    source_npi: int = 0
    dest_ton: int = 1  # international
    dest_npi: int = 1
    timeout: float = 10.0
    max_retries: int = 3
    backoff: float = 0.5
    receipt_wait: float = 0.0  # seconds to keep reading receipts after a batch
    entity_id_tlv: int = DEFAULT_ENTITY_ID_TLV
    template_id_tlv: int = DEFAULT_TEMPLATE_ID_TLV
    submit_id_base: int | None = None  # 16 when submit_sm_resp gives ids in hex, 10 in decimal
    receipt_id_base: int | None = None  # the same for the id in receipts
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(key="none", per_second=0))
    name: str = "smpp"
    receipts: list[Receipt] = field(default_factory=list)
    replies: list[SmppReply] = field(default_factory=list)

    @classmethod
    def from_config(cls, options: dict, secrets: dict) -> "SmppGateway":
        return cls(
            host=options["host"],
            port=int(options["port"]),
            system_id=options.get("system_id", ""),
            password=secrets.get("password", ""),
            system_type=options.get("system_type", ""),
            source_ton=int(options.get("source_ton", cls.source_ton)),
            source_npi=int(options.get("source_npi", cls.source_npi)),
            dest_ton=int(options.get("dest_ton", cls.dest_ton)),
            dest_npi=int(options.get("dest_npi", cls.dest_npi)),
            timeout=float(options.get("timeout", 10)),
            max_retries=int(options.get("max_retries", 3)),
            backoff=float(options.get("backoff", 0.5)),
            receipt_wait=float(options.get("receipt_wait", 0)),
            entity_id_tlv=int(str(options.get("entity_id_tlv", DEFAULT_ENTITY_ID_TLV)), 0),
            template_id_tlv=int(str(options.get("template_id_tlv", DEFAULT_TEMPLATE_ID_TLV)), 0),
            submit_id_base=int(options["submit_id_base"]) if options.get("submit_id_base") else None,
            receipt_id_base=int(options["receipt_id_base"]) if options.get("receipt_id_base") else None,
        )

    def drain_receipts(self) -> list[Receipt]:
        receipts, self.receipts = self.receipts, []
        return receipts

    def drain_replies(self) -> list[SmppReply]:
        """Customers' replies the SMSC delivered on a sending session (it may hand them to any bound session)."""
        replies, self.replies = self.replies, []
        return replies

    def connection_check(self) -> str:
        self._close(self._bind())
        return f"{self.host}:{self.port} bound {self.system_id!r} as a transceiver and unbound"

    # --- session ------------------------------------------------------------------------------------------------

    def _bind(self) -> smpplib.client.Client:
        client = _Client(self.host, self.port, timeout=self.timeout, allow_unknown_opt_params=True)
        client.connect()
        try:
            client.bind_transceiver(
                system_id=self.system_id, password=self.password, system_type=self.system_type or None
            )
        except Exception:
            client.disconnect()
            raise
        return client

    @staticmethod
    def _close(client: smpplib.client.Client) -> None:
        with contextlib.suppress(smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError):
            client.unbind()
        client.disconnect()

    def _answer(self, client, pdu) -> Receipt | SmppReply | None:
        """Answer what the SMSC sends on its own (deliver_sm, enquire_link); returns the receipt or the customer's
        reply a deliver_sm carried. Every deliver_sm is acknowledged, even one that cannot be read: refusing it
        would only have the SMSC deliver the same bytes again."""
        if pdu.command == "deliver_sm":
            response = smpplib.smpp.make_pdu("deliver_sm_resp", client=client)
            response.sequence = pdu.sequence
            client.send_pdu(response)
            try:
                receipt = receipt_from_deliver_sm(pdu, self.receipt_id_base)
            except Exception:  # a receipt that breaks the parser is still logged, as what arrived
                logger.exception("deliver_sm seq %s could not be read as a receipt", pdu.sequence)
                receipt = None
            return receipt or reply_from_deliver_sm(pdu)
        if pdu.command == "enquire_link":
            response = smpplib.smpp.make_pdu("enquire_link_resp", client=client)
            response.sequence = pdu.sequence
            client.send_pdu(response)
        return None

    # --- sending ------------------------------------------------------------------------------------------------

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        started = time.monotonic()
        try:
            client = self._bind()
        except smpplib.exceptions.PDUError as error:
            status = error.args[1] if len(error.args) > 1 else 0
            return self._all(messages, "gateway_submit_failed", f"SMPP:bind:0x{status:08X}", str(error), started)
        except (smpplib.exceptions.ConnectionError, OSError) as error:
            return self._all(messages, "gateway_submit_failed", "SMPP:connect", repr(error), started)
        part_ids: dict[str, str] = {}  # id of every part -> id kept on the message (its first part)
        results: list[SubmitResult] = []
        try:
            for message in messages:
                result = self._submit(client, message, part_ids)
                results.append(result)
                if result.reason_code == "gateway_timeout":
                    break  # the session is in an unknown state: the rest is not sent
            self._read_receipts(client, self.receipt_wait)
        finally:
            self._close(client)
        done = {r.message_id for r in results}
        results += self._all([m for m in messages if m.message_id not in done], "gateway_timeout", "SMPP:timeout",
                             "not submitted: the session timed out", started)  # fmt: skip
        self.receipts = [self._to_message_id(r, part_ids) for r in self.receipts]
        return results

    @staticmethod
    def _to_message_id(receipt: Receipt, part_ids: dict[str, str]) -> Receipt:
        """A receipt for a later part of a concatenated message counts for the message (kept under its first id)."""
        first = part_ids.get(receipt.gateway_message_id)
        if first and first != receipt.gateway_message_id:
            return Receipt(first, receipt.state, receipt.reason_code, receipt.gateway_error, raw=receipt.raw)
        return receipt

    def _submit(self, client, message: OutgoingMessage, part_ids: dict[str, str]) -> SubmitResult:
        encoded = encode_sms(message.body)
        exchanges: list[Exchange] = []
        ids: list[str] = []
        tlvs = b""
        if message.dlt_entity_id:
            tlvs += _tlv(self.entity_id_tlv, message.dlt_entity_id)
        if message.dlt_template_id:
            tlvs += _tlv(self.template_id_tlv, message.dlt_template_id)
        for number, short_message in enumerate(encoded.parts, start=1):
            for attempt in range(self.max_retries + 1):
                if attempt:
                    time.sleep(self.backoff * 2 ** (attempt - 1))
                self.limiter.wait()  # every part counts against the gateway's rate
                started = time.monotonic()
                pdu = _SubmitWithTlvs(
                    "submit_sm",
                    client=client,
                    source_addr_ton=self.source_ton,
                    source_addr_npi=self.source_npi,
                    source_addr=message.sender,
                    dest_addr_ton=self.dest_ton,
                    dest_addr_npi=self.dest_npi,
                    destination_addr=message.recipient.lstrip("+"),
                    esm_class=encoded.esm_class,
                    data_coding=encoded.data_coding,
                    registered_delivery=1,
                    short_message=short_message,
                )
                pdu.extra_tlvs = tlvs
                request = (f"submit_sm part {number}/{len(encoded.parts)} seq {pdu.sequence} to "
                           f"{message.recipient} from {message.sender} data_coding {encoded.data_coding} "
                           f"esm_class 0x{encoded.esm_class:02X} {short_message.hex()}")  # fmt: skip
                try:
                    client.send_pdu(pdu)
                    response = self._wait_for_response(client, pdu.sequence)
                except (TimeoutError, smpplib.exceptions.ConnectionError, OSError) as error:
                    exchanges.append(Exchange("submit", request, "", f"no submit_sm_resp: {error!r}",
                                              int((time.monotonic() - started) * 1000)))  # fmt: skip
                    return SubmitResult(message.message_id, False, reason_code="gateway_timeout",
                                        gateway_error="SMPP:timeout", exchanges=tuple(exchanges))  # fmt: skip
                status = int(response.status)
                raw_id = _text(getattr(response, "message_id", b"")).strip()
                message_id = canonical_id(raw_id, self.submit_id_base) if raw_id else ""
                exchanges.append(Exchange("submit", request, f"submit_sm_resp status 0x{status:08X} id {raw_id}",
                                          "", int((time.monotonic() - started) * 1000)))  # fmt: skip
                if status == 0 and message_id:
                    ids.append(message_id)
                    break
                if status == 0:
                    return SubmitResult(message.message_id, False, reason_code="gateway_bad_response",
                                        gateway_error="SMPP:no-id", exchanges=tuple(exchanges))  # fmt: skip
                if status in SMPP_RETRYABLE_STATUSES and attempt < self.max_retries:
                    continue
                return SubmitResult(message.message_id, False, reason_code=smpp_submit_reason(status),
                                    gateway_error=f"SMPP:0x{status:08X}", exchanges=tuple(exchanges))  # fmt: skip
        for part_id in ids:
            part_ids[part_id] = ids[0]
        return SubmitResult(message.message_id, True, ids[0], exchanges=tuple(exchanges))

    def _wait_for_response(self, client, sequence: int):
        while True:
            try:
                pdu = client.read_pdu()
            except TimeoutError:
                raise TimeoutError("the SMSC did not answer in time") from None
            if pdu.command == "submit_sm_resp" and pdu.sequence == sequence:
                return pdu
            self._collect(self._answer(client, pdu))

    def _collect(self, delivered: Receipt | SmppReply | None, on_receipt=None, on_reply=None) -> None:
        if isinstance(delivered, SmppReply):
            (on_reply or self.replies.append)(delivered)
        elif delivered:
            (on_receipt or self.receipts.append)(delivered)

    def _read_receipts(
        self,
        client,
        seconds: float,
        on_receipt: Callable[[Receipt], None] | None = None,
        on_reply: Callable[[SmppReply], None] | None = None,
    ) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            # smpplib reads with the session's socket timeout; shorten it so the wait ends on time.
            client._socket.settimeout(min(remaining, self.timeout))
            try:
                pdu = client.read_pdu()
            except TimeoutError:
                continue
            self._collect(self._answer(client, pdu), on_receipt, on_reply)
        client._socket.settimeout(self.timeout)

    def listen(
        self,
        *,
        seconds: float,
        on_receipt: Callable[[Receipt], None],
        on_reply: Callable[[SmppReply], None] | None = None,
    ) -> None:
        """Stay bound for `seconds`, handing every receipt to `on_receipt` and every customer's reply to `on_reply`
        as they arrive."""
        client = self._bind()
        try:
            self._read_receipts(client, seconds, on_receipt, on_reply)
        finally:
            self._close(client)

    def _all(self, messages, reason_code, gateway_error, error, started) -> list[SubmitResult]:
        log = (Exchange("submit", f"bind_transceiver {self.system_id}@{self.host}:{self.port}", "", error,
                        int((time.monotonic() - started) * 1000)),)  # fmt: skip
        return [SubmitResult(m.message_id, False, "", reason_code, gateway_error, log) for m in messages]
