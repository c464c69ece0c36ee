"""The SMPP adapter against a small SMSC on loopback: encodings, concatenation, DLT TLVs, receipts, errors."""

import io
import struct

import pytest
from django.core.management import call_command

from delivery.gateways.base import OutgoingMessage
from delivery.gateways.smpp_inbound import canonical_id
from delivery.gateways.smpp_text import GSM7_BASIC, decode_gsm7, encode_sms
from delivery.models import GatewayExchange, Message
from tests.delivery.helpers import assert_shown, gateway, smpp_config, statuses
from tests.delivery.smsc import Smsc


@pytest.fixture
def smsc():
    server = Smsc().start()
    yield server
    server.stop()


def out(body: str, n: int = 1) -> OutgoingMessage:
    return OutgoingMessage(n, "sms", "+919810000001", body, "ACMERT", "1701160000000000001", "1707160000000000001")


def reassemble(parts: list[bytes]) -> tuple[bytes, list[tuple[int, int, int]]]:
    headers = [(p[3], p[4], p[5]) for p in parts]
    assert all(p[:3] == b"\x05\x00\x03" for p in parts)
    return b"".join(p[6:] for p in parts), headers


# --- encoding and concatenation ---------------------------------------------------------------------------------


def test_gsm_text_goes_as_data_coding_0_with_escape_pairs_for_extension_characters(smsc):
    result = gateway(smsc).send_batch([out("Sale @ 50% off [today] €5")])
    assert result[0].accepted
    submit = smsc.submits[0]
    assert (submit.data_coding, submit.esm_class, submit.registered_delivery) == (0, 0, 1)
    assert submit.short_message[:6] == bytes([0x53, 0x61, 0x6C, 0x65, 0x20, 0x00])  # "Sale @" ; @ is 0x00
    assert b"\x1b\x3c" in submit.short_message and b"\x1b\x65" in submit.short_message  # [ and €
    assert decode_gsm7(submit.short_message) == "Sale @ 50% off [today] €5"


def test_indian_script_goes_as_ucs2_data_coding_8(smsc):
    gateway(smsc).send_batch([out("नमस्ते, आपका ऑर्डर भेज दिया गया है")])
    submit = smsc.submits[0]
    assert submit.data_coding == 8
    assert submit.short_message.decode("utf-16-be") == "नमस्ते, आपका ऑर्डर भेज दिया गया है"


def test_dlt_entity_and_template_ids_and_the_sender_travel_with_the_submit(smsc):
    gateway(smsc).send_batch([out("Hello")])
    submit = smsc.submits[0]
    assert submit.source_addr == "ACMERT" and submit.destination_addr == "919810000001"
    assert submit.tlvs[0x1400] == b"1701160000000000001\x00"
    assert submit.tlvs[0x1401] == b"1707160000000000001\x00"


def test_long_gsm_text_is_split_with_a_udh_and_never_splits_an_escape_pair(smsc):
    text = "a" * 152 + "€" + "b" * 100  # the euro sign's escape pair would straddle septets 153/154
    gateway(smsc).send_batch([out(text)])
    parts = [s.short_message for s in smsc.submits]
    assert len(parts) == 2 and all(s.esm_class == 0x40 and s.data_coding == 0 for s in smsc.submits)
    assert len(parts[0]) - 6 == 152  # one septet short: the pair moved to part 2
    payload, headers = reassemble(parts)
    ref = headers[0][0]
    assert headers == [(ref, 2, 1), (ref, 2, 2)]
    assert decode_gsm7(payload) == text


def test_long_ucs2_text_never_splits_a_surrogate_pair():
    text = "अ" * 66 + "😀" + "ब" * 10  # the emoji's two code units would straddle units 67/68
    encoded = encode_sms(text, reference=9)
    assert encoded.data_coding == 8 and len(encoded.parts) == 2
    assert len(encoded.parts[0]) - 6 == 66 * 2
    payload, headers = reassemble(encoded.parts)
    assert headers == [(9, 2, 1), (9, 2, 2)] and payload.decode("utf-16-be") == text


@pytest.mark.parametrize(("length", "parts"), [(160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm_part_counts_follow_160_and_153(length, parts):
    assert len(encode_sms("x" * length).parts) == parts


@pytest.mark.parametrize(("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_part_counts_follow_70_and_67(length, parts):
    assert len(encode_sms("अ" * length).parts) == parts


def test_every_gsm_character_round_trips():
    text = GSM7_BASIC.replace("\x1b", "") + "^{}\\[~]|€\f"
    encoded = encode_sms(text, reference=1)
    assert encoded.data_coding == 0
    payload = b"".join(p[6:] for p in encoded.parts) if len(encoded.parts) > 1 else encoded.parts[0]
    assert decode_gsm7(payload) == text


# --- receipts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submit_ids", "receipt_ids", "bases"),
    [("hex", "decimal", {"submit_id_base": 16, "receipt_id_base": 10}),
     ("decimal", "hex", {"submit_id_base": 10, "receipt_id_base": 16}),
     ("hex", "hex", {"submit_id_base": None, "receipt_id_base": None})],
)  # fmt: skip
def test_receipts_find_their_message_whether_ids_are_hex_or_decimal(
    smsc, org, customers, send_campaign, submit_ids, receipt_ids, bases
):
    # given an SMSC that answers with ids in one base and reports receipts in another, as its settings say
    smsc.id_format, smsc.receipt_id_format = submit_ids, receipt_ids
    smsc.outcome = lambda destination: ("DELIVRD", "000")
    smpp_config(org, smsc, **bases)

    # when a campaign is sent
    campaign = send_campaign()

    # then every message is delivered, its receipt acknowledged, and the id kept in one spelling
    assert statuses(campaign) == {"delivered": 10}
    assert smsc.receipts_acknowledged == 10
    first = Message.objects.filter(campaign=campaign).order_by("pk").first()
    raw = smsc.submits[0].message_id
    assert first.gateway_message_id == (str(int(raw, 16)) if bases.get("submit_id_base") == 16 else raw)


def test_ids_that_differ_only_in_base_are_never_confused():
    assert canonical_id("1A2B3C", 16) == canonical_id("1715004", 10) == "1715004"
    assert canonical_id("100") != canonical_id("64")
    assert canonical_id("0000012345") == "12345" and canonical_id("abc123") == "ABC123"
    assert canonical_id("msg-7", 16) == "msg-7"


def test_receipt_errors_map_to_reasons_and_show_on_view_details(smsc, org, customers, send_campaign, client, manager):
    outcomes = {"1": ("UNDELIV", "621"), "2": ("UNDELIV", "001"), "3": ("EXPIRED", "000"), "4": ("REJECTD", "634")}
    smsc.outcome = lambda destination: outcomes.get(destination[-1], ("DELIVRD", "000"))
    smpp_config(org, smsc)
    campaign = send_campaign()
    assert statuses(campaign) == {
        "delivered": 6,
        "not_delivered:dlt_sender_id": 1,
        "not_delivered:undeliverable": 1,
        "not_delivered:expired": 1,
        "not_delivered:dlt_template": 1,
    }
    assert Message.objects.get(campaign=campaign, reason_code="dlt_sender_id").gateway_error == "UNDELIV:621"
    client.force_login(manager)
    assert_shown(client, campaign, "dlt_sender_id", 1)


def test_tlv_only_receipts_are_read_from_receipted_message_id_and_message_state(smsc, org, customers, send_campaign):
    smsc.receipt_style = "tlv"
    smsc.outcome = lambda destination: ("UNDELIV", "000") if destination.endswith("1") else ("DELIVRD", "000")
    smpp_config(org, smsc)
    campaign = send_campaign()
    assert statuses(campaign) == {"delivered": 9, "not_delivered:undeliverable": 1}


def test_an_enroute_receipt_keeps_the_message_waiting(smsc, org, customers, send_campaign):
    smsc.outcome = lambda destination: ("ENROUTE", "000")
    smpp_config(org, smsc)
    assert statuses(send_campaign()) == {"sent": 10}


def test_receipts_sent_after_the_batch_are_applied_by_the_listener(smsc, org, customers, send_campaign):
    # given an SMSC that sends receipts only on a later session, and a campaign sent through it
    smsc.hold_receipts = True
    smsc.outcome = lambda destination: ("DELIVRD", "000")
    config = smpp_config(org, smsc, receipt_wait=0)
    campaign = send_campaign()
    assert statuses(campaign) == {"sent": 10}

    # when the receipt listener runs for a moment
    output = io.StringIO()
    call_command("smpp_receipts", gateway=config.pk, seconds=0.5, stdout=output)

    # then the held receipts were read, acknowledged and applied
    assert statuses(campaign) == {"delivered": 10}
    assert "10 receipt(s) applied" in output.getvalue()


# --- submit errors ----------------------------------------------------------------------------------------------


def test_throttling_is_retried_with_backoff_and_then_accepted(smsc, org, customers, send_campaign):
    smsc.statuses = [0x58, 0x58]
    smpp_config(org, smsc)
    campaign = send_campaign()
    assert statuses(campaign) == {"sent": 10}
    assert len(smsc.submits) == 12


def test_throttling_that_does_not_stop_exhausts_the_retries(smsc, org, customers, send_campaign):
    smsc.statuses = [0x58] * 4
    smpp_config(org, smsc, max_retries=3)
    campaign = send_campaign()
    first = Message.objects.filter(campaign=campaign).order_by("pk").first()
    assert (first.status, first.reason_code, first.gateway_error) == ("not_sent", "gateway_retries_exhausted",
                                                                       "SMPP:0x00000058")  # fmt: skip
    assert statuses(campaign) == {"not_sent:gateway_retries_exhausted": 1, "sent": 9}


def test_an_invalid_destination_is_not_retried(smsc, org, customers, send_campaign):
    smsc.statuses = [0x0B]
    smpp_config(org, smsc)
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:validation_failed": 1, "sent": 9}
    assert len(smsc.submits) == 10


def test_an_unmapped_command_status_is_other_gateway_problem_keeping_the_code(smsc, org, customers, send_campaign):
    smsc.statuses = [0x45]
    smpp_config(org, smsc)
    campaign = send_campaign()
    message = Message.objects.get(campaign=campaign, status="not_sent")
    assert (message.reason_code, message.gateway_error) == ("gateway_other", "SMPP:0x00000045")


def test_a_refused_bind_leaves_every_message_not_sent_and_logs_it_without_the_password(
    smsc, org, customers, send_campaign
):
    smsc.bind_status = 0x0E  # ESME_RINVPASWD
    smpp_config(org, smsc)
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_submit_failed": 10}
    assert Message.objects.filter(campaign=campaign).first().gateway_error == "SMPP:bind:0x0000000E"
    assert smsc.binds[0] == ("acme", "sm-pw-77")
    assert not GatewayExchange.objects.filter(request__contains="sm-pw-77").exists()


def test_an_smsc_that_never_answers_times_out(smsc, org, customers, send_campaign):
    smsc.silent = True
    smpp_config(org, smsc, timeout=0.3)
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_timeout": 10}
    assert len(smsc.submits) == 1  # the session is given up after the first unanswered submit


def test_submit_log_records_each_part_and_its_id(smsc, org, customers, send_campaign):
    smpp_config(org, smsc)
    campaign = send_campaign()
    message = Message.objects.filter(campaign=campaign).order_by("pk").first()
    exchange = GatewayExchange.objects.get(message=message)
    raw_id = smsc.submits[0].message_id  # as the SMSC sent it (hex); the message keeps the decimal spelling
    assert "submit_sm part 1/1" in exchange.request and f"id {raw_id}" in exchange.response
    assert message.gateway_message_id == str(int(raw_id, 16))


def test_unpack_check_of_the_udh_layout():
    encoded = encode_sms("y" * 200, reference=77)
    assert [struct.unpack("BBBBBB", p[:6]) for p in encoded.parts] == [(5, 0, 3, 77, 2, 1), (5, 0, 3, 77, 2, 2)]


def test_the_send_rate_applies_to_each_submitted_part(smsc, org, customers, send_campaign):
    smpp_config(org, smsc, rate_per_second=40)
    assert statuses(send_campaign()) == {"sent": 10}
    times = [submit.at for submit in smsc.submits]
    assert times[-1] - times[0] >= 9 / 40 * 0.95
