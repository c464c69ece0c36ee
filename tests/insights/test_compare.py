"""Campaigns side by side: outcomes, reasons, clicks, timing and devices per campaign, a recurring campaign as
the sum of its runs."""

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from campaigns.models import Campaign, CustomerList, Template
from delivery.models import Message
from insights.campaign_clicks import click_timeline
from insights.comparison import campaigns_compare
from linktrack import short_links
from linktrack.models import Click, ShortLink
from tests.conftest import make_customers

IST = ZoneInfo("Asia/Kolkata")
SENT = datetime(2026, 11, 20, 10, 5, tzinfo=IST)
WEEK_1 = datetime(2026, 11, 16, 10, 0, tzinfo=IST)
WEEK_2 = datetime(2026, 11, 23, 10, 0, tzinfo=IST)
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
PREVIEW_BOT = "WhatsApp/2.23.20.0 A"
D, ND, NS, UNK, WAIT = "delivered", "not_delivered", "not_sent", "unknown", "sent"


def _messages(campaign: Campaign, customers, outcomes: list[tuple[str, str]], sent_at: datetime) -> list[Message]:
    """One message per (status, reason code), to the customers in order."""
    return Message.objects.bulk_create(
        Message(
            campaign=campaign,
            customer=customer,
            channel=campaign.template.channel,
            recipient=customer.mobile,
            status=status,
            reason_code=reason,
            sent_at=None if status == NS else sent_at,
        )
        for customer, (status, reason) in zip(customers, outcomes, strict=True)
    )


def _link(campaign: Campaign) -> ShortLink:
    destination = "https://acme.test/sale"
    return ShortLink.objects.get(
        pk=short_links.short_links_for(campaign=campaign, destinations=[destination])[destination]
    )


def _click(link: ShortLink, message: Message | None, at: datetime, agent: str = ANDROID) -> None:
    Click.objects.create(
        event_id=uuid.uuid4().hex,
        short_link=link,
        campaign=link.campaign,
        message=message,
        channel=link.campaign.template.channel,
        clicked_at=at,
        user_agent=agent,
        is_bot=agent == PREVIEW_BOT,
    )


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(
        org=org, name="Weekend newsletter", channel="email", subject="News for {#var#}", body="Hello {#var#}: {#var#}"
    )


@pytest.fixture
def three(org, template, email_template) -> tuple[Campaign, Campaign, Campaign]:
    """A: SMS to a list, 10 messages (6 delivered, 1 not sent, 2 undeliverable, 1 waiting), 3 clicks by 2 people.
    B: email to everyone, 4 delivered, 1 click. C: recurring SMS, two runs a week apart, 5 messages, 3 clicks."""
    customers = make_customers(org, 10)
    vip = CustomerList.objects.create(org=org, name="VIP")
    a = Campaign.objects.create(
        org=org, name="Diwali", template=template, launched_at=SENT, audience_list=vip, audience_description="list VIP"
    )
    b = Campaign.objects.create(org=org, name="Weekend mail", template=email_template, launched_at=SENT)
    c = Campaign.objects.create(
        org=org, name="Weekly", template=template, kind=Campaign.Kind.RECURRING, schedule="0 10 * * 1"
    )
    runs = [
        Campaign.objects.create(org=org, name=f"Weekly run {n}", template=template, parent=c, launched_at=at)
        for n, at in ((1, WEEK_1), (2, WEEK_2))
    ]
    outcomes = [(D, "")] * 6 + [(NS, "unsubscribed"), (ND, "undeliverable"), (ND, "undeliverable"), (WAIT, "")]
    a_sent = _messages(a, customers, outcomes, SENT)
    a_link = _link(a)
    _click(a_link, a_sent[0], SENT + timedelta(minutes=15))
    _click(a_link, a_sent[0], SENT + timedelta(minutes=65), agent=IPHONE)
    _click(a_link, a_sent[1], SENT + timedelta(minutes=125), agent=DESKTOP)
    _click(a_link, a_sent[2], SENT + timedelta(minutes=1), agent=PREVIEW_BOT)  # never counted
    b_sent = _messages(b, customers[:4], [(D, "")] * 4, SENT)
    _click(_link(b), b_sent[0], SENT + timedelta(minutes=40))
    first = _messages(runs[0], customers[:3], [(D, ""), (D, ""), (UNK, "operator_no_report")], WEEK_1)
    second = _messages(runs[1], customers[:2], [(D, ""), (ND, "expired")], WEEK_2)
    _click(_link(runs[0]), first[0], WEEK_1 + timedelta(minutes=30), agent=IPHONE)
    second_link = _link(runs[1])
    _click(second_link, second[0], WEEK_2 + timedelta(minutes=10))
    _click(second_link, second[0], WEEK_2 + timedelta(minutes=190), agent=DESKTOP)
    return a, b, c


def _compare(client, *ids) -> str:
    response = client.get(reverse("insights:compare"), {"c": [str(pk) for pk in ids]})
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, figure: str) -> list[str]:
    start = page.index(f'<tr data-figure="{figure}">')
    return re.findall(r"<td>(.*?)</td>", page[start : page.index("</tr>", start)])


def test_each_campaign_shows_what_went_out_and_what_came_back(three):
    a, b, c = (Campaign.objects.select_related("org", "template").get(pk=x.pk) for x in three)

    diwali, mail, weekly = campaigns_compare(campaigns=[a, b, c])

    assert (diwali.name, diwali.channel, diwali.kind, diwali.audience, diwali.template_name) == (
        "Diwali",
        "SMS",
        "One-time",
        "list VIP",
        "Order shipped",
    )
    assert (mail.channel, mail.audience, mail.template_name) == ("Email", "every customer", "Weekend newsletter")
    outcomes = [
        (x.messages, x.delivered_percent, x.not_sent_percent, x.not_delivered_percent, x.unknown_percent)
        for x in (diwali, mail, weekly)
    ]
    assert outcomes == [(10, 60.0, 10.0, 30.0, 0.0), (4, 100.0, 0.0, 0.0, 0.0), (5, 60.0, 0.0, 20.0, 20.0)]
    top = diwali.top_not_delivered
    assert (top.title, top.count, top.percent) == ("Gateway confirmed it cannot be delivered", 2, 66.7)
    assert mail.top_not_delivered is None
    assert (weekly.top_not_delivered.title, weekly.top_not_delivered.percent) == ("Expired before delivery", 100.0)
    clicks = [(x.clicks.unique, x.clicks.total, x.click_rate) for x in (diwali, mail, weekly)]
    assert clicks == [(2, 3, 33.3), (1, 1, 25.0), (2, 3, 66.7)]
    timing = [(x.first_click_minutes, x.half_within_hours, x.phone_percent) for x in (diwali, mail, weekly)]
    assert timing == [(15, 2, 66.7), (40, 1, 100.0), (10, 1, 66.7)]
    # a one-time campaign's timing reads as on its own page
    on_its_page = click_timeline(campaign=a)
    assert (on_its_page.first_click_minutes, on_its_page.half_within_hours) == (15, 2)
