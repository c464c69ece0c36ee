"""Helpers of the Insights page tests: campaigns with clicks, the page's tables and CSV."""

import csv
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

from django.urls import reverse

from campaigns.models import Campaign, Template
from delivery.models import Message
from linktrack import services
from linktrack.models import Click, ShortLink
from tests.factories import CampaignFactory, store_clicks

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


DAY_ONE = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # 17:30 in India
DAY_TWO = DAY_ONE + timedelta(days=1)


def _sent_campaign(template: Template, name: str, recipients: int, *, launched_at: datetime = DAY_ONE):
    """A campaign delivered to the org's first `recipients` customers, with one tracked link."""
    campaign = CampaignFactory(
        org=template.org, name=name, template=template, status=Campaign.Status.DISPATCHED, launched_at=launched_at
    )
    customers = list(template.org.customers.order_by("pk")[:recipients])
    messages = Message.objects.bulk_create(
        [
            Message(campaign=campaign, customer=c, channel=template.channel, recipient=c.mobile, status="delivered")
            for c in customers
        ]
    )
    destination = "https://shop.acme.test/sale"
    link = ShortLink.objects.get(
        pk=services.short_links_for(campaign=campaign, destinations=[destination])[destination]
    )
    return link, messages


def _hits(link: ShortLink, message: Message, at: datetime, times: int = 1, *, agent: str = PHONE) -> None:
    store_clicks(
        [
            Click(
                event_id=uuid.uuid4().hex,
                short_link=link,
                campaign=link.campaign,
                message=message,
                channel=link.campaign.template.channel,
                clicked_at=at,
                ip_hash=services.hash_ip("203.0.113.7"),
                user_agent=agent,
                is_bot=agent != PHONE,
            )
            for _ in range(times)
        ]
    )


def _page(client, **params) -> str:
    response = client.get(reverse("insights:overview"), params)
    assert response.status_code == 200
    return response.content.decode()


def _day_rows(page: str) -> dict[str, list[str]]:
    """The By day table: each day's figures, left to right (the bar left out)."""
    rows = re.findall(r'<tr data-day="([\d-]+)">(.*?)</tr>', page, re.DOTALL)
    return {day: re.findall(r"<td>(\d+)</td>", cells) for day, cells in rows}


def _campaign_names(page: str) -> list[str]:
    table = page[page.index('<table id="by-campaign">') : page.index('<table id="by-day">')]
    return re.findall(r'<a href="/campaigns/\d+/">(.*?)</a>', table)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
