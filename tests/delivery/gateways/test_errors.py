"""Gateway error codes mapped to catalogue reasons; unmapped codes get the generic reason of their group."""

import pytest

from delivery.gateways import codes as errors
from delivery.models import GatewayExchange, Message


@pytest.mark.parametrize(
    ("code", "reason"),
    [("600", "dlt_entity"), ("604", "dlt_entity"), ("614", "dlt_chain"), ("618", "dlt_chain"),
     ("620", "dlt_sender_id"), ("623", "dlt_sender_id"), ("630", "dlt_template"), ("699", "dlt_template"),
     ("DLT:621", "dlt_sender_id"), ("605", ""), ("619", ""), ("ABC", "")],
)  # fmt: skip
def test_dlt_codes_map_by_their_range(code, reason):
    assert errors.dlt_reason(code) == reason


@pytest.mark.parametrize(
    ("stat", "err", "expected"),
    [("DELIVRD", "000", ("delivered", "")), ("ENROUTE", "000", ("pending", "")), ("ACCEPTD", "0", ("pending", "")),
     ("UNDELIV", "621", ("not_delivered", "dlt_sender_id")), ("UNDELIV", "001", ("not_delivered", "undeliverable")),
     ("REJECTD", "NDNC", ("not_delivered", "ndnc")), ("EXPIRED", "000", ("not_delivered", "expired")),
     ("UNKNOWN", "000", ("unknown", "operator_no_report")), ("WEIRD", "999", ("not_delivered", "gateway_failed"))],
)  # fmt: skip
def test_smpp_receipt_stat_and_err(stat, err, expected):
    assert errors.smpp_receipt_reason(stat, err) == expected


def test_twilio_and_infobip_codes():
    assert errors.twilio_receipt_reason("undelivered", "30005") == ("not_delivered", "undeliverable")
    assert errors.twilio_receipt_reason("failed", "12345") == ("not_delivered", "gateway_failed")
    assert errors.twilio_receipt_reason("delivered", "") == ("delivered", "")
    assert errors.twilio_receipt_reason("teleported", "") is None
    assert errors.infobip_receipt_reason(2, 1, "EC_UNKNOWN_SUBSCRIBER") == ("not_delivered", "undeliverable")
    assert errors.infobip_receipt_reason(5, None, "DLT:633") == ("not_delivered", "dlt_template")
    assert errors.infobip_receipt_reason(5, 4242, "SOMETHING") == ("not_delivered", "gateway_failed")
    assert errors.infobip_receipt_reason(9, None) is None


def test_smpp_submit_statuses():
    assert errors.smpp_submit_reason(0x58) == "gateway_retries_exhausted"
    assert errors.smpp_submit_reason(0x0B) == "validation_failed"
    assert errors.smpp_submit_reason(0x45) == "gateway_other"


def test_the_simulated_gateway_keeps_a_log_of_submits_and_receipts(customers, send_campaign, settings):
    settings.SIMULATED_GATEWAY_MIX = "undeliverable:1"
    campaign = send_campaign()
    message = Message.objects.filter(campaign=campaign).first()
    log = list(GatewayExchange.objects.filter(message=message).order_by("pk").values_list("operation", "response",
                                                                                              "request"))  # fmt: skip
    assert log[0][:2] == ("submit", f"accepted as {message.gateway_message_id}")
    assert log[1][0] == "receipt" and log[1][2] == "simulated: undeliverable"
