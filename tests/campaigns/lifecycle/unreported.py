"""A promotional (numeric) sender's campaign whose messages went out without receipts, and clicks on it."""

import uuid

from django.utils import timezone

from campaigns.models import Campaign, SenderId, Template
from delivery.models import Message
from linktrack import services
from linktrack.models import ShortLink
from tests.factories import SenderIdFactory, TemplateFactory, create_campaign, store_click

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari"


def promotional_template(org) -> Template:
    sender = SenderIdFactory(
        org=org, header="567890", category=SenderId.Category.PROMOTIONAL, dlt_entity_id="1701160000000000002"
    )
    return TemplateFactory(
        org=org, name="Sale", sender=sender, dlt_template_id="1707160000000000009",
        body="Hi {#var#}, our sale is on: {#var#} - Acme",
    )  # fmt: skip


def sent_and_clicked(template, manager, customers, *, name: str, handed_over: int, clickers: int) -> Campaign:
    """A campaign launched a moment ago, one message per customer: the first `handed_over` with the gateway and
    without a receipt (unknown or still waiting), the others not sent; the first `clickers` recipients clicked (the
    first of them twice)."""
    campaign = create_campaign(template, manager, name=name)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHED, launched_at=timezone.now())
    statuses = [Message.Status.UNKNOWN, Message.Status.SENT]
    messages = Message.objects.bulk_create(
        Message(
            campaign=campaign,
            customer=customer,
            channel="sms",
            recipient=customer.mobile,
            status=statuses[number % 2] if number < handed_over else Message.Status.NOT_SENT,
            reason_code="operator_no_report" if number < handed_over and number % 2 == 0 else "",
        )
        for number, customer in enumerate(customers)
    )
    destination = "https://acme.test/sale"
    link = ShortLink.objects.get(
        pk=services.short_links_for(campaign=campaign, destinations=[destination])[destination]
    )
    for message in [messages[0], *messages[:clickers]]:
        store_click(
            event_id=uuid.uuid4().hex, short_link=link, campaign=campaign, message=message, channel="sms",
            clicked_at=timezone.now(), ip_hash=services.hash_ip("203.0.113.5"), user_agent=PHONE, is_bot=False,
        )  # fmt: skip
    campaign.refresh_from_db()
    return campaign
