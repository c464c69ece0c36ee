"""SMPP 3.4 through smpplib: bind as transceiver, submit_sm (GSM-7 / UCS-2, concatenated with a UDH, DLT ids in
TLVs), and read deliver_sm: receipts (the `id:... stat:... err:...` text and the receipted_message_id /
message_state TLVs) and customers' replies (mobile originated messages, such as "STOP").

Receipts and replies that arrive while a batch is being submitted are collected (drain_receipts, drain_replies);
the rest arrive on the long-running listener (`manage.py smpp_receipts`), which keeps a transceiver bound and
applies them as they come.
"""

import contextlib
import logging
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import smpplib.client
import smpplib.command
import smpplib.consts
import smpplib.exceptions
import smpplib.pdu
import smpplib.ptypes
import smpplib.smpp

from delivery.gateways import addresses
from delivery.gateways.base import Exchange, OutgoingMessage, Receipt, SubmitResult
from delivery.gateways.codes import (
    SMPP_RETRYABLE_STATUSES,
    smpp_submit_reason,
)
from delivery.gateways.ratelimit import RateLimiter
from delivery.gateways.smpp_inbound import (
    SmppReply,
    canonical_id,
    pdu_text,
    receipt_from_deliver_sm,
    reply_from_deliver_sm,
)
from delivery.gateways.smpp_text import encode_sms

logger = logging.getLogger(__name__)

# TLVs Indian SMPP gateways read the DLT ids from (vendor range; the tags are settings of the gateway).
DEFAULT_ENTITY_ID_TLV = 0x1400
DEFAULT_TEMPLATE_ID_TLV = 0x1401


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


# generic_nack's command_status for a PDU that cannot be read: its command is unknown, or its body is not as the
# command says (SMPP 3.4, 5.1.3).
GENERIC_NACK = 0x80000000
ESME_RINVCMDLEN = 0x00000002
ESME_RINVCMDID = 0x00000003


def _tolerant_optional_params(pdu, data: bytes) -> None:
    """The TLVs of a PDU as smpplib reads them, except that one the command does not define (an SMSC's own, or one
    SMPP gives another command, such as number_of_messages 0x0304 in a deliver_sm) or one of the wrong size is
    passed over by its own length. smpplib raises a KeyError for the first and misreads what follows the second."""
    pos = 0
    while pos < len(data):
        if len(data) - pos < 4:
            raise ValueError(f"a TLV at byte {pos} of the optional parameters is cut short")
        tag, length = struct.unpack_from(">HH", data, pos)
        start, pos = pos + 4, pos + 4 + length
        if pos > len(data):
            raise ValueError(f"TLV 0x{tag:04X} says {length} bytes, {len(data) - start} are left")
        try:
            name = smpplib.command.get_optional_name(tag)
        except smpplib.exceptions.UnknownCommandError:
            name = None
        param = pdu.params.get(name) if name else None
        if param is None or (param.type is int and param.size != length):
            pdu.skipped_tlvs.append(tag)
            continue
        if param.type is int:
            pdu._parse_int(name, data, start)
        elif param.type is str:
            pdu._parse_string(name, data, start, length)
        elif param.type is smpplib.ptypes.ostr:
            pdu._parse_ostring(name, data, start, length)


class _Client(smpplib.client.Client):
    """smpplib's client, except that what the SMSC sends and smpplib cannot read never ends the session: a deliver_sm
    whose body cannot be parsed (a truncated TLV, a field of the wrong size) still comes back, marked `unreadable`,
    so it is answered and logged; a TLV the command does not define is passed over; any other request that cannot
    be read (an unknown command, a broken alert_notification) is answered with generic_nack, logged, and reading
    goes on. Sending the same bytes again (as an SMSC does with what was not acknowledged) changes none of this.
    It connects to the address it is given, already checked (delivery.gateways.addresses), IPv4 or IPv6."""

    def connect(self):
        try:
            self._socket = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError:
            raise smpplib.exceptions.ConnectionError("Connection refused") from None
        self.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN

    def read_pdu(self):
        while True:
            pdu = self._read_one_pdu()
            if pdu is not None:
                return pdu

    def _read_one_pdu(self):
        raw_length = self._recv_exact(4)
        (length,) = struct.unpack(">L", raw_length)
        if length < 16:
            raise smpplib.exceptions.PDUError(f"PDU length {length} is shorter than its header")
        raw_pdu = raw_length + self._recv_exact(length - 4)
        command_id, sequence = struct.unpack_from(">L", raw_pdu, 4)[0], struct.unpack_from(">L", raw_pdu, 12)[0]
        try:
            command = smpplib.pdu.extract_command(raw_pdu)
            # smpplib knows some commands by name only (replace_sm, cancel_sm ...): it cannot make their PDU either.
            pdu = smpplib.smpp.make_pdu(command, client=self, allow_unknown_opt_params=self.allow_unknown_opt_params)
        except smpplib.exceptions.UnknownCommandError as error:
            return self._refuse(raw_pdu, command_id, sequence, ESME_RINVCMDID, str(error))
        pdu.raw_pdu = raw_pdu
        pdu.unreadable = ""
        pdu.skipped_tlvs = []
        pdu.parse_optional_params = lambda data: _tolerant_optional_params(pdu, data)
        try:
            pdu.parse(raw_pdu)
        except Exception as error:  # the bytes are the SMSC's: smpplib fails on them in many ways (KeyError ...)
            if pdu.command == "deliver_sm":
                pdu.unreadable = f"the deliver_sm could not be parsed ({error!r})"
                return pdu
            return self._refuse(raw_pdu, command_id, sequence, ESME_RINVCMDLEN, f"unreadable {command}: {error!r}")
        if pdu.skipped_tlvs:
            logger.info(
                "%s seq %s: passed over TLV %s",
                pdu.command,
                pdu.sequence,
                ", ".join(f"0x{tag:04X}" for tag in pdu.skipped_tlvs),
            )
        if not pdu.is_error() and pdu.command in smpplib.consts.STATE_SETTERS:
            self.state = smpplib.consts.STATE_SETTERS[pdu.command]
        return pdu

    def _refuse(self, raw_pdu: bytes, command_id: int, sequence: int, status: int, why: str) -> None:
        """Answer a request that cannot be read with generic_nack and go on; a response that cannot be read leaves
        the session in an unknown state, so it ends it (PDUError: the caller binds again)."""
        if command_id & GENERIC_NACK:
            raise smpplib.exceptions.PDUError(why)
        logger.warning(
            "SMPP %s:%s sent a PDU that cannot be read (%s), answered generic_nack 0x%08X: %s",
            self.host,
            self.port,
            why,
            status,
            raw_pdu[:256].hex(),
        )
        self._socket.sendall(struct.pack(">LLLL", 16, GENERIC_NACK, status, sequence))
        return None


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
    allow_private: bool = field(default_factory=addresses.allow_private)
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
        """A bound transceiver; raises addresses.Refused, before connecting, for a host linktrack may not call."""
        address = addresses.address_to_call(self.host, self.port, allow_private=self.allow_private)
        client = _Client(address, self.port, timeout=self.timeout, allow_unknown_opt_params=True)
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
        except addresses.Refused as refused:  # nothing was sent: no connection was made
            return self._all(
                messages, "gateway_submit_failed", "SMPP:address-refused", f"not called: {refused}", started
            )
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
                raw_id = pdu_text(getattr(response, "message_id", b"")).strip()
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
