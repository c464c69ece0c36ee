"""A minimal SMSC for the tests: speaks enough SMPP 3.4 over loopback to bind a transceiver, answer submit_sm with
ids (hex or decimal), send deliver_sm receipts (text, TLVs or both) and customers' replies (mobile originated
deliver_sm), throttle, and refuse a bind."""

import socket
import struct
import threading
import time
from dataclasses import dataclass, field

BIND_TRANSCEIVER, BIND_TRANSCEIVER_RESP = 0x00000009, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
GENERIC_NACK = 0x80000000
STATE_CODES = {"ENROUTE": 1, "DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "ACCEPTD": 6, "UNKNOWN": 7,
               "REJECTD": 8}  # fmt: skip


def _cstring(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\x00", pos)
    return data[pos:end].decode("latin-1"), end + 1


@dataclass
class Submit:
    source_addr: str
    destination_addr: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes]
    addressing: tuple[int, int, int, int] = (0, 0, 0, 0)  # source TON, source NPI, destination TON, destination NPI
    message_id: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class Smsc:
    """Behaviour knobs: id_format ("hex" / "decimal") of submit_sm_resp; receipt_id_format of receipts;
    outcome(destination) -> (stat, err) or None (no receipt); receipt_style "text" / "tlv" / "both";
    statuses: command_status to answer the next submits with (then 0); bind_status; hold_receipts (send on the
    next bind instead of at once); silent (never answer submit_sm)."""

    id_format: str = "hex"
    receipt_id_format: str = "decimal"
    receipt_style: str = "text"
    outcome: object = None
    statuses: list[int] = field(default_factory=list)
    bind_status: int = 0
    hold_receipts: bool = False
    silent: bool = False
    submits: list[Submit] = field(default_factory=list)
    binds: list[tuple[str, str]] = field(default_factory=list)
    receipts_acknowledged: int = 0  # every deliver_sm_resp, for a receipt or a reply
    acknowledged: list[tuple[int, int]] = field(default_factory=list)  # (sequence, command_status) of each
    nacked: list[tuple[int, int]] = field(default_factory=list)  # (sequence, command_status) of each generic_nack
    held: list[bytes] = field(default_factory=list)
    port: int = 0
    _next_id: int = 0x1A2B3C00
    _sequence: int = 0x7000

    def start(self) -> "Smsc":
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._bound: list[socket.socket] = []
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._running = False
        self._listener.close()

    def _accept(self) -> None:
        while self._running:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    @staticmethod
    def _read(connection: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _send(self, connection, command_id: int, status: int, sequence: int, body: bytes = b"") -> None:
        connection.sendall(struct.pack(">LLLL", 16 + len(body), command_id, status, sequence) + body)

    def _serve(self, connection: socket.socket) -> None:
        try:
            while True:
                length, command_id, _status, sequence = struct.unpack(">LLLL", self._read(connection, 16))
                body = self._read(connection, length - 16)
                if command_id == BIND_TRANSCEIVER:
                    system_id, pos = _cstring(body, 0)
                    password, _ = _cstring(body, pos)
                    self.binds.append((system_id, password))
                    self._send(connection, BIND_TRANSCEIVER_RESP, self.bind_status, sequence, b"FAKESMSC\x00")
                    if self.bind_status:
                        return
                    with self._lock:
                        held, self.held = self.held, []
                        self._bound.append(connection)
                    for pdu in held:
                        connection.sendall(pdu)
                elif command_id == SUBMIT_SM:
                    self._submit(connection, sequence, body)
                elif command_id == DELIVER_SM_RESP:
                    self.receipts_acknowledged += 1
                    self.acknowledged.append((sequence, _status))
                elif command_id == GENERIC_NACK:
                    self.nacked.append((sequence, _status))
                elif command_id == ENQUIRE_LINK:
                    self._send(connection, ENQUIRE_LINK_RESP, 0, sequence)
                elif command_id == UNBIND:
                    self._send(connection, UNBIND_RESP, 0, sequence)
                    return
                else:
                    self._send(connection, GENERIC_NACK, 3, sequence)
        except (ConnectionError, OSError):
            pass
        finally:
            with self._lock:
                if connection in self._bound:
                    self._bound.remove(connection)
            connection.close()

    def _submit(self, connection, sequence: int, body: bytes) -> None:
        _service_type, pos = _cstring(body, 0)
        source_ton, source_npi = body[pos], body[pos + 1]
        source, pos = _cstring(body, pos + 2)
        dest_ton, dest_npi = body[pos], body[pos + 1]
        destination, pos = _cstring(body, pos + 2)
        esm_class, _protocol, _priority = body[pos], body[pos + 1], body[pos + 2]
        pos += 3
        _schedule, pos = _cstring(body, pos)
        _validity, pos = _cstring(body, pos)
        registered_delivery, _replace, data_coding, _default_id, sm_length = body[pos : pos + 5]
        pos += 5
        short_message = body[pos : pos + sm_length]
        pos += sm_length
        tlvs = {}
        while pos < len(body):
            tag, size = struct.unpack(">HH", body[pos : pos + 4])
            tlvs[tag] = body[pos + 4 : pos + 4 + size]
            pos += 4 + size
        submit = Submit(source, destination, esm_class, registered_delivery, data_coding, short_message, tlvs,
                        (source_ton, source_npi, dest_ton, dest_npi))  # fmt: skip
        with self._lock:
            self.submits.append(submit)
            status = self.statuses.pop(0) if self.statuses else 0
            number = self._next_id
            if status == 0:
                self._next_id += 1
        if self.silent:
            return
        if status:
            self._send(connection, SUBMIT_SM_RESP, status, sequence, b"\x00")
            return
        submit.message_id = format(number, "X") if self.id_format == "hex" else str(number)
        self._send(connection, SUBMIT_SM_RESP, 0, sequence, submit.message_id.encode() + b"\x00")
        outcome = self.outcome(destination) if callable(self.outcome) else None
        if outcome:
            receipt_id = format(number, "X") if self.receipt_id_format == "hex" else str(number)
            pdu = self._receipt(destination, source, receipt_id, *outcome)
            if self.hold_receipts:
                with self._lock:
                    self.held.append(pdu)
            else:
                connection.sendall(pdu)

    def _receipt(self, destination: str, source: str, receipt_id: str, stat: str, err: str) -> bytes:
        text = b""
        if self.receipt_style in ("text", "both"):
            text = (f"id:{receipt_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} submit date:2611231200 "
                    f"done date:2611231201 stat:{stat} err:{err} Text:Hi").encode()  # fmt: skip
        body = b"\x00" + bytes([1, 1]) + destination.encode() + b"\x00" + bytes([5, 0]) + source.encode() + b"\x00"
        body += bytes([0x04, 0, 0]) + b"\x00" + b"\x00" + bytes([0, 0, 0, 0, len(text)]) + text
        if self.receipt_style in ("tlv", "both"):
            tlv_id = receipt_id.encode() + b"\x00"
            body += struct.pack(">HH", 0x001E, len(tlv_id)) + tlv_id
            body += struct.pack(">HHB", 0x0427, 1, STATE_CODES[stat])
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        return struct.pack(">LLLL", 16 + len(body), DELIVER_SM, 0, sequence) + body

    def deliver_reply(self, source_addr: str, short_message: bytes, **fields) -> int:
        """A customer's message (mobile originated deliver_sm, fields as deliver_sm_pdu takes them) to the bound
        client, or to the next one that binds when none is; returns its sequence number."""
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        self.send_pdu(deliver_sm_pdu(sequence, source_addr, short_message, **fields))
        return sequence

    def send_pdu(self, pdu: bytes) -> None:
        """Any bytes, as they are, to the bound client, or to the next one that binds when none is."""
        with self._lock:
            bound = self._bound[-1] if self._bound else None
            if bound is None:
                self.held.append(pdu)
        if bound is not None:
            bound.sendall(pdu)


def deliver_sm_pdu(
    sequence: int,
    source_addr: str,
    short_message: bytes,
    *,
    ton: int = 1,
    npi: int = 1,
    data_coding: int = 0,
    esm_class: int = 0,
    tlvs: bytes = b"",
) -> bytes:
    """A mobile originated deliver_sm as an SMSC sends it; `tlvs` are appended as given (a broken one too)."""
    body = b"\x00" + bytes([ton, npi]) + source_addr.encode("latin-1") + b"\x00" + bytes([5, 0]) + b"ACMERT\x00"
    body += bytes([esm_class, 0, 0]) + b"\x00" + b"\x00" + bytes([0, 0, data_coding, 0, len(short_message)])
    body += short_message + tlvs
    return struct.pack(">LLLL", 16 + len(body), DELIVER_SM, 0, sequence) + body
