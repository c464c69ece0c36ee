"""The summary email counts a promotional sender's messages still without a receipt as unknown, as the campaign's
report will once the wait is over: operators never report their delivery; its click rate is of the messages sent."""

from datetime import timedelta

from django.core import mail

from campaigns.lifecycle.summary_email import campaign_summaries_send
from campaigns.models import SenderId
from campaigns.sending.supervisor import campaigns_supervise
from delivery.models import Message
from linktrack.models import ShortLink
from tests.campaigns.lifecycle.unreported import PHONE
from tests.factories import SenderIdFactory, TemplateFactory, http_config, store_click


def test_the_summary_counts_promotional_messages_without_a_receipt_as_unknown(
    org, customers, send_campaign, http_gateway, clock, django_capture_on_commit_callbacks
):
    # given a promotional campaign of 10 handed to an HTTP gateway that sends no receipt, settled 16 minutes ago
    sender = SenderIdFactory(
        org=org, header="567890", category=SenderId.Category.PROMOTIONAL, dlt_entity_id="1701160000000000002"
    )
    promotional = TemplateFactory(
        org=org, name="Sale", sender=sender, dlt_template_id="1707160000000000009",
        body="Hi {#var#}, our sale is on: {#var#} - Acme",
    )  # fmt: skip
    http_config(org, http_gateway.url)
    campaign = send_campaign(name="Sale", use_template=promotional)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns_supervise()
    assert Message.objects.filter(campaign=campaign, status=Message.Status.SENT).count() == 10
    # and 2 of its recipients clicked
    link = ShortLink.objects.get(campaign=campaign)
    for message in Message.objects.filter(campaign=campaign).order_by("pk")[:2]:
        store_click(
            short_link=link, campaign=campaign, message=message, channel="sms", clicked_at=clock.moment,
            ip_hash="x", user_agent=PHONE, is_bot=False,
        )  # fmt: skip
    clock.moment += timedelta(minutes=16)

    # when the summary pass runs
    assert campaign_summaries_send() == 1

    # then its 10 messages are unknown, not "not delivered, still waiting for a receipt", and no reason is listed
    text = mail.outbox[0].body
    assert "Unknown: 10 (100.0%)" in text and "Not delivered: 0 (0.0%)" in text
    assert "waiting for a receipt" not in text and "Waiting for the gateway" not in text
    # and its click rate is of the messages sent, since none can count as delivered
    assert "click rate 20.0% of sent messages (operators report no delivery for promotional senders)" in text
