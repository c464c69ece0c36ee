"""Property tests of reading what an SMSC sends: whatever bytes arrive (random TLVs on a deliver_sm, random bodies
of every command, random streams), the SMPP client used by the receipts listener returns a PDU, answers what it
cannot read with generic_nack, or ends the session with one of the errors the listener reconnects after; and a
deliver_sm it returns is acknowledged and read as a receipt, a reply or a problem in words, never an exception."""

import socket
import struct

import smpplib.command_codes
import smpplib.consts
import smpplib.exceptions
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from delivery.gateways.base import Receipt
from delivery.gateways.smpp import SmppGateway, _Client
from delivery.gateways.smpp_inbound import SmppReply
from tests.delivery.smsc import DELIVER_SM, DELIVER_SM_RESP, GENERIC_NACK, deliver_sm_pdu

# What ends a session, after which the listener binds again (delivery/management/commands/smpp_receipts.py).
SESSION_ENDED = (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError)
# Every command SMPP 3.4 has, requests and responses, and some it does not.
COMMAND_IDS = [*smpplib.command_codes.commands.values(), 0x00000999, 0x80000999, 0xFFFFFFFF]
# Tags SMPP defines (for one command or another) and some it does not.
TAGS = st.one_of(
    st.sampled_from([0x0005, 0x0007, 0x000E, 0x001E, 0x0204, 0x020C, 0x020E, 0x020F, 0x0304, 0x0381, 0x0424, 0x0427,
                     0x0428, 0x0501, 0x1400, 0x1401, 0xFFFF]),
    st.integers(0, 0xFFFF),
)  # fmt: skip
TLV = st.builds(
    lambda tag, value, length: struct.pack(">HH", tag, len(value) if length is None else length) + value,
    TAGS,
    st.binary(max_size=12),
    st.one_of(st.none(), st.none(), st.integers(0, 0xFFFF)),  # mostly the value's own length
)
GATEWAY = SmppGateway(host="127.0.0.1", port=0, system_id="fuzz", timeout=0.5)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(stream: bytes) -> tuple[object, bytes]:
    """What the client reads from `stream` over a local socket pair: the PDU (or the exception), and what it sent
    back."""
    ours, smsc = socket.socketpair()
    client = _Client("127.0.0.1", 0, timeout=0.5, allow_unknown_opt_params=True)
    client._socket = ours
    client.state = smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX
    ours.settimeout(0.5)
    smsc.sendall(stream)
    smsc.shutdown(socket.SHUT_WR)
    try:
        try:
            result = client.read_pdu()
        except Exception as error:
            result = error
        if not isinstance(result, Exception):
            try:
                answered = GATEWAY._answer(client, result)
            except Exception as error:
                result = error
            else:
                assert answered is None or isinstance(answered, Receipt | SmppReply)
                if isinstance(answered, SmppReply) and answered.reply is None:
                    assert answered.problem
        ours.shutdown(socket.SHUT_WR)
        sent = b"".join(iter(lambda: smsc.recv(4096), b""))
    finally:
        client._socket = None
        ours.close()
        smsc.close()
    return result, sent


@FAST
@given(
    short_message=st.binary(max_size=40),
    tlvs=st.lists(TLV, max_size=4).map(b"".join),
    data_coding=st.sampled_from([0, 1, 3, 4, 8, 0xF0, 0xFF]),
    esm_class=st.sampled_from([0, 0x04, 0x08, 0x40, 0x44, 0xFF]),
    ton=st.integers(0, 255),
)
@example(short_message=b"STOP", tlvs=bytes.fromhex("0304000105"), data_coding=0, esm_class=0, ton=1)
@example(short_message=b"STOP", tlvs=b"\x04", data_coding=0, esm_class=0, ton=1)
def test_a_deliver_sm_with_any_tlvs_is_acknowledged_and_read_or_logged(
    short_message, tlvs, data_coding, esm_class, ton
):
    stream = deliver_sm_pdu(7, "919810000001", short_message, ton=ton, data_coding=data_coding, esm_class=esm_class,
                            tlvs=tlvs)  # fmt: skip

    result, sent = _read(stream)

    assert not isinstance(result, Exception), repr(result)
    assert result.command == "deliver_sm"
    assert sent[:16] == struct.pack(">LLLL", 17, DELIVER_SM_RESP, 0, 7)


@FAST
@given(command_id=st.one_of(st.sampled_from(COMMAND_IDS), st.integers(0, 0xFFFFFFFF)), body=st.binary(max_size=60))
@example(command_id=0x00000102, body=bytes.fromhex("0304dc0c08"))
@example(command_id=DELIVER_SM, body=b"")
def test_any_command_with_any_body_is_read_answered_or_ends_the_session(command_id, body):
    stream = struct.pack(">LLLL", 16 + len(body), command_id, 0, 1) + body

    result, sent = _read(stream)

    if isinstance(result, Exception):
        assert isinstance(result, SESSION_ENDED), repr(result)
        if command_id & GENERIC_NACK == 0:
            # a request is never left unanswered: it was nacked, and the session ended only at the end of the stream
            assert sent[4:8] == struct.pack(">L", GENERIC_NACK) and sent[12:16] == struct.pack(">L", 1)


@FAST
@given(stream=st.binary(max_size=80))
@example(stream=bytes.fromhex("000000150000010200000000000000010304dc0c08"))
@example(stream=struct.pack(">L", 5) + b"\x00" * 12)
def test_any_stream_of_bytes_is_read_answered_or_ends_the_session(stream):
    result, _ = _read(stream)
    assert not isinstance(result, Exception) or isinstance(result, SESSION_ENDED), repr(result)
