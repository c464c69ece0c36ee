"""Helpers of the reporting API tests: campaigns with outcomes and a link, clicks, the error of an answer."""

import uuid
from datetime import UTC, datetime

from campaigns.models import Campaign, Customer, Template
from delivery.models import Message
from linktrack.models import Click, ShortLink
from linktrack.redirect import short_links
from tests.factories import store_click

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
PREVIEW_BOT = "WhatsApp/2.23.20.0 A"
LIST_URL = "/api/v1/campaigns/"


def _campaign(template: Template, name: str, *, status="dispatched", created_at=None, outcomes=(), **fields):
    """A campaign with one message per entry of `outcomes` (a Message status) and one tracked link."""
    campaign = Campaign.objects.create(org=template.org, name=name, template=template, status=status, **fields)
    if created_at is not None:
        Campaign.objects.filter(pk=campaign.pk).update(created_at=created_at)
        campaign.refresh_from_db()
    have = template.org.customers.count()
    Customer.objects.bulk_create(
        Customer(org=template.org, name=f"Customer {n}", mobile=f"+91981{n:07d}", external_id=f"C{n}")
        for n in range(have + 1, len(outcomes) + 1)
    )
    customers = list(template.org.customers.order_by("pk")[: len(outcomes)])
    Message.objects.bulk_create(
        Message(
            campaign=campaign,
            customer=c,
            channel=template.channel,
            recipient=c.mobile,
            status=status,
        )
        for c, status in zip(customers, outcomes, strict=False)
    )
    short_links.short_links_for(campaign=campaign, destinations=["https://acme.test/sale"])
    return campaign


def _click(campaign: Campaign, message: Message | None, *, agent=PHONE, bot=False, at=None) -> Click:
    return store_click(
        event_id=uuid.uuid4().hex,
        short_link=ShortLink.objects.get(campaign=campaign),
        campaign=campaign,
        message=message,
        channel=campaign.template.channel,
        clicked_at=at or datetime(2026, 11, 20, 4, 35, 12, 123456, tzinfo=UTC),
        user_agent=agent,
        is_bot=bot,
    )


def _error_of(response) -> str:
    assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "no-store"
    return response.json()["error"]
