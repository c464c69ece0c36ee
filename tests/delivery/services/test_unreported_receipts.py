"""SMS from a promotional (numeric) sender get no delivery receipt (operators do not report them): after the wait
they are unknown, never "not delivered: no receipt", and are not offered for a resend."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.lifecycle.services import resend_options
from campaigns.models import SenderId, Template
from delivery import services
from delivery.models import Message
from tests.factories import SenderIdFactory, TemplateFactory, http_config


@pytest.fixture
def promotional(org) -> Template:
    sender = SenderIdFactory(
        org=org, header="567890", category=SenderId.Category.PROMOTIONAL, dlt_entity_id="1701160000000000002"
    )
    return TemplateFactory(
        org=org, name="Sale", sender=sender, dlt_template_id="1707160000000000009",
        body="Hi {#var#}, our sale is on: {#var#} - Acme",
    )  # fmt: skip


def test_promotional_messages_without_a_receipt_end_unknown_and_others_not_delivered(
    org, customers, promotional, send_campaign, http_gateway, clock, settings
):
    # given a promotional and a service campaign through an HTTP gateway that sends no receipt, 73 hours ago
    settings.RECEIPT_WAIT_HOURS = 72
    http_config(org, http_gateway.url)
    sale = send_campaign(name="Sale", use_template=promotional)
    service = send_campaign(name="Shipped")
    Message.objects.update(sent_at=timezone.now() - timedelta(hours=73))
    assert Message.objects.filter(status=Message.Status.SENT).count() == 20

    # when the no-receipt sweep runs
    assert services.receipts_expire() == 20

    # then the promotional messages are unknown ("operator shares no delivery details"), the others no receipt
    outcomes = {
        campaign.name: set(Message.objects.filter(campaign=campaign).values_list("status", "reason_code"))
        for campaign in (sale, service)
    }
    assert outcomes == {
        "Sale": {(Message.Status.UNKNOWN, "operator_no_report")},
        "Shipped": {(Message.Status.NOT_DELIVERED, "no_receipt")},
    }
    # and only the service campaign's are offered for a resend
    assert resend_options(source=sale) == []
    assert [code for code, _, count in resend_options(source=service)] == ["no_receipt"]


def test_promotional_messages_still_waiting_are_not_offered_for_a_resend(
    org, customers, promotional, send_campaign, http_gateway, clock
):
    # (at midday in India: promotional messages are held between 21:00 and 09:00)
    http_config(org, http_gateway.url)
    sale = send_campaign(name="Sale", use_template=promotional)
    assert Message.objects.filter(campaign=sale, status=Message.Status.SENT).count() == 10
    assert resend_options(source=sale) == []
