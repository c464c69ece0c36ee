"""A customer's reply over SMPP (a mobile originated deliver_sm): "STOP" unsubscribes them from SMS, as through an
HTTP gateway's inbound webhook; everything else is acknowledged and logged, and nothing stops the listener."""

import io
import struct

import pytest
import smpplib.client
import smpplib.smpp
from django.core.management import call_command

from campaigns.models import Customer, Unsubscribe
from delivery.gateways.base import OutgoingMessage
from delivery.gateways.smpp_inbound import reply_from_deliver_sm
from delivery.models import GatewayExchange
from tests.delivery.helpers import gateway, smpp_config, statuses
from tests.delivery.smsc import Smsc, deliver_sm_pdu

# The listener runs for this long; the SMSC hands it the queued deliver_sm as soon as it binds, on loopback.
LISTEN_SECONDS = 0.3


@pytest.fixture
def smsc():
    server = Smsc().start()
    yield server
    server.stop()


def listen(config) -> str:
    output = io.StringIO()
    call_command("smpp_receipts", gateway=config.pk, seconds=LISTEN_SECONDS, stdout=output, stderr=io.StringIO())
    return output.getvalue()


def subscribed(customer: Customer) -> bool:
    return Customer.objects.get(pk=customer.pk).sms_subscribed


def parsed(short_message: bytes, source_addr: str = "919810000001", **fields):
    """What the adapter reads from a deliver_sm, parsed by smpplib from the bytes an SMSC sends."""
    client = smpplib.client.Client("127.0.0.1", 0, allow_unknown_opt_params=True)  # never connects
    pdu = smpplib.smpp.parse_pdu(
        deliver_sm_pdu(7, source_addr, short_message, **fields), client=client, allow_unknown_opt_params=True
    )
    return reply_from_deliver_sm(pdu)


# --- through the listener ---------------------------------------------------------------------------------------


def test_a_stop_from_an_indian_number_unsubscribes_that_customer_of_the_gateways_org_only(
    smsc, org, other_org, customers
):
    # given a customer of this org, and one of another org with the same number
    customer = customers[0]
    namesake = Customer.objects.create(org=other_org, name="Elsewhere", mobile=customer.mobile)
    config = smpp_config(org, smsc)
    sequence = smsc.deliver_reply(customer.mobile.lstrip("+"), b"STOP", ton=1, npi=1)

    # when the listener receives the customer's "STOP"
    output = listen(config)

    # then this org's customer is unsubscribed from SMS only, the other org's is not, and the reply is answered
    # and kept in the gateway log
    customer.refresh_from_db()
    assert (customer.sms_subscribed, customer.email_subscribed) == (False, True)
    assert (Unsubscribe.objects.get(customer=customer).source, subscribed(namesake)) == ("stop_reply", True)
    assert smsc.acknowledged == [(sequence, 0)]
    logged = GatewayExchange.objects.get(operation="inbound", gateway_id=config.pk)
    assert "'STOP'" in logged.request and customer.mobile in logged.request and logged.error == ""
    assert "1 reply(ies) read, 1 unsubscribed" in output


def test_stop_in_other_cases_with_spaces_and_words_after_it_unsubscribes_in_every_spelling_of_the_number(
    smsc, org, customers
):
    # given replies in the spellings the HTTP path accepts, from numbers written international, national and plain
    config = smpp_config(org, smsc)
    smsc.deliver_reply(customers[0].mobile.lstrip("+"), b"stop ", ton=1, npi=1)
    smsc.deliver_reply(customers[1].mobile[3:], b" Stop. ", ton=2, npi=1)
    smsc.deliver_reply("0" + customers[2].mobile[3:], b"UNSUBSCRIBE please", ton=0, npi=0)
    smsc.deliver_reply(customers[3].mobile.lstrip("+"), b"stopall", ton=0, npi=0)

    # when the listener receives them
    listen(config)

    # then each of those customers is unsubscribed, and nobody else
    assert [subscribed(c) for c in customers[:5]] == [False, False, False, False, True]


def test_a_stop_in_ucs2_unsubscribes_the_customer(smsc, org, customers):
    config = smpp_config(org, smsc)
    smsc.deliver_reply(customers[0].mobile.lstrip("+"), "STOP 🙏".encode("utf-16-be"), data_coding=8)
    listen(config)
    assert subscribed(customers[0]) is False


def test_an_ordinary_reply_and_a_stop_from_an_unknown_number_change_nothing(smsc, org, customers):
    # given a question from a customer and a "STOP" from a number that is no customer of the org
    config = smpp_config(org, smsc)
    smsc.deliver_reply(customers[0].mobile.lstrip("+"), b"When does the sale stop?")
    smsc.deliver_reply("919899999999", b"STOP")

    # when the listener receives them
    listen(config)

    # then nobody is unsubscribed, and both were answered and logged
    assert all(subscribed(c) for c in customers) and not Unsubscribe.objects.exists()
    assert len(smsc.acknowledged) == 2
    assert GatewayExchange.objects.filter(operation="inbound", error="").count() == 2


def test_a_part_of_a_concatenated_reply_is_logged_and_not_read(smsc, org, customers):
    # given the first of two parts of a long reply that happens to start with "STOP"
    config = smpp_config(org, smsc)
    udh = bytes([0x05, 0x00, 0x03, 0x2A, 2, 1])
    smsc.deliver_reply(
        customers[0].mobile.lstrip("+"), udh + b"STOP sending me the sale messages on Sunday", esm_class=0x40
    )

    # when the listener receives it
    listen(config)

    # then it unsubscribes nobody, is acknowledged, and the log says why it was not read
    assert subscribed(customers[0]) is True and len(smsc.acknowledged) == 1
    assert GatewayExchange.objects.get(operation="inbound").error == "part 1 of 2 of a concatenated reply: not read"


def test_a_malformed_deliver_sm_is_acknowledged_and_logged_and_the_listener_reads_on(smsc, org, customers):
    # given a reply whose optional parameters are cut short, followed by a "STOP"
    config = smpp_config(org, smsc)
    broken = smsc.deliver_reply(customers[0].mobile.lstrip("+"), b"STOP", tlvs=b"\x04")
    stop = smsc.deliver_reply(customers[1].mobile.lstrip("+"), b"STOP")

    # when the listener receives both
    listen(config)

    # then both are acknowledged, the broken one is logged as unreadable and changes nothing, the next one counts
    assert smsc.acknowledged == [(broken, 0), (stop, 0)]
    assert [subscribed(c) for c in customers[:2]] == [True, False]
    unreadable = GatewayExchange.objects.get(operation="inbound", error__startswith="the deliver_sm could not be")
    assert f"seq {broken}" in unreadable.request


def test_a_deliver_sm_with_a_tlv_smpp_gives_another_command_is_read_without_it(smsc, org, customers):
    # given a STOP carrying number_of_messages (0x0304), a TLV SMPP defines for another command, then another STOP
    config = smpp_config(org, smsc)
    odd = smsc.deliver_reply(customers[0].mobile.lstrip("+"), b"STOP", tlvs=bytes.fromhex("0304000105"))
    stop = smsc.deliver_reply(customers[1].mobile.lstrip("+"), b"STOP")

    # when the listener receives both
    output = listen(config)

    # then both are acknowledged and both customers unsubscribed, and the listener ran to its end
    assert smsc.acknowledged == [(odd, 0), (stop, 0)] and smsc.nacked == []
    assert [subscribed(c) for c in customers[:2]] == [False, False]
    assert "2 reply(ies) read" in output


@pytest.mark.parametrize(
    ("pdu", "status"),
    [
        # alert_notification whose body smpplib reads as the TLV number_of_messages, cut short
        (bytes.fromhex("000000150000010200000000000000010304dc0c08"), 0x02),
        # a command SMPP 3.4 does not have
        (struct.pack(">LLLL", 16, 0x00000999, 0, 1), 0x03),
        # replace_sm, a command smpplib knows by name only
        (struct.pack(">LLLL", 16, 0x00000007, 0, 1), 0x03),
    ],
)
def test_a_pdu_that_cannot_be_read_is_answered_with_generic_nack_and_the_listener_reads_on(
    smsc, org, customers, pdu, status
):
    # given a PDU that cannot be read, sent with sequence 1, then a STOP
    config = smpp_config(org, smsc)
    smsc.send_pdu(pdu)
    stop = smsc.deliver_reply(customers[0].mobile.lstrip("+"), b"STOP")

    # when the listener receives both
    output = listen(config)

    # then the first is answered with generic_nack, the STOP is acknowledged and applied, in one session
    assert smsc.nacked == [(1, status)] and smsc.acknowledged == [(stop, 0)]
    assert not subscribed(customers[0])
    assert len(smsc.binds) == 1 and "1 reply(ies) read" in output


def test_receipts_and_a_stop_in_one_session_are_both_applied(smsc, org, customers, send_campaign):
    # given a campaign whose receipts the SMSC holds for the listener, and a customer who then replied STOP
    smsc.hold_receipts = True
    smsc.outcome = lambda destination: ("DELIVRD", "000")
    config = smpp_config(org, smsc, receipt_wait=0)
    campaign = send_campaign()
    smsc.deliver_reply(customers[4].mobile.lstrip("+"), b"STOP")

    # when the listener runs
    output = listen(config)

    # then the receipts are applied and the customer is unsubscribed
    assert statuses(campaign) == {"delivered": 10}
    assert subscribed(customers[4]) is False
    assert "10 receipt(s) applied, 1 reply(ies) read, 1 unsubscribed" in output


def test_a_stop_the_smsc_hands_to_a_sending_session_unsubscribes_too(smsc, org, customers, send_campaign):
    # given an SMSC that hands a customer's STOP to whichever session binds next: the one sending a campaign
    config = smpp_config(org, smsc)
    smsc.deliver_reply(customers[4].mobile.lstrip("+"), b"STOP")

    # when the campaign is sent
    campaign = send_campaign()

    # then every message went and the customer who replied is unsubscribed, the reply kept in the gateway log
    assert sum(statuses(campaign).values()) == 10 and "not_sent" not in str(statuses(campaign))
    assert subscribed(customers[4]) is False
    assert GatewayExchange.objects.filter(operation="inbound", gateway_id=config.pk).count() == 1


def test_a_reply_the_smsc_hands_to_a_sending_session_is_kept_for_the_sender(smsc):
    smsc.deliver_reply("919810000009", b"STOP")
    adapter = gateway(smsc)
    out = OutgoingMessage(1, "sms", "+919810000001", "Hello", "ACMERT", "1701160000000000001", "1707160000000000001")
    assert adapter.send_batch([out])[0].accepted
    replies = adapter.drain_replies()
    assert [(r.reply.from_number, r.reply.text) for r in replies] == [("+919810000009", "STOP")]
    assert smsc.receipts_acknowledged == 1


# --- reading a deliver_sm ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_addr", "ton", "npi", "sender"),
    [("919810000001", 1, 1, "+919810000001"),  # international
     ("9810000001", 2, 1, "+919810000001"),  # national: India
     ("09810000001", 2, 1, "+919810000001"),
     ("9810000001", 0, 0, "+919810000001"),  # unknown: Indian first
     ("919810000001", 0, 0, "+919810000001"),
     ("447911123456", 0, 0, "+447911123456"),  # then international
     ("+919810000001", 0, 1, "+919810000001"),
     ("ACMEBANK", 5, 0, "ACMEBANK")],  # alphanumeric: kept as sent, no customer has it
)  # fmt: skip
def test_the_sender_is_read_in_e164_by_its_type_of_number(source_addr, ton, npi, sender):
    assert parsed(b"STOP", source_addr, ton=ton, npi=npi).reply.from_number == sender


@pytest.mark.parametrize(
    ("short_message", "data_coding", "text"),
    [(bytes([0x00, 0x20, 0x1B, 0x65, 0x35]), 0, "@ €5"),  # GSM-7, one septet per octet, with an escape pair
     ("Stop ñ".encode("latin-1"), 3, "Stop ñ"),
     ("Stop ñ".encode("latin-1"), 0, "Stop ñ"),  # an SMSC that sends Latin-1 as its default alphabet
     ("बंद करो STOP".encode("utf-16-be"), 8, "बंद करो STOP"),
     (b"STOP", 0xF1, "STOP")],  # message class coding, GSM alphabet
)  # fmt: skip
def test_the_text_is_decoded_by_its_data_coding(short_message, data_coding, text):
    assert parsed(short_message, data_coding=data_coding).reply.text == text


def test_binary_data_and_broken_ucs2_are_not_read_as_text():
    assert parsed(b"STOP", data_coding=4).problem.startswith("the reply could not be read: data_coding 0x04")
    assert parsed(b"\x00S\x00", data_coding=8).reply is None


def test_the_text_of_a_message_payload_tlv_is_read_when_short_message_is_empty():
    payload = "STOP".encode("utf-16-be")
    reply = parsed(b"", data_coding=8, tlvs=struct.pack(">HH", 0x0424, len(payload)) + payload).reply
    assert reply.text == "STOP" and reply.is_stop


def test_a_single_part_udh_reply_is_read_and_sar_parts_are_not():
    assert parsed(bytes([0x05, 0x00, 0x03, 9, 1, 1]) + b"STOP", esm_class=0x40).reply.text == "STOP"
    sar = struct.pack(">HHH", 0x020C, 2, 5) + struct.pack(">HHB", 0x020E, 1, 3) + struct.pack(">HHB", 0x020F, 1, 1)
    assert parsed(b"STOP", tlvs=sar).problem == "part 1 of 3 of a concatenated reply: not read"


def test_a_receipt_without_a_message_id_is_never_a_reply():
    assert parsed(b"stat:DELIVRD", esm_class=0x04).reply is None
