"""The Insights page: Unique and Total Click Count by channel, campaign and day, for the user's own org only."""

import csv
import io
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Template
from delivery.models import Message
from linktrack import services
from linktrack.models import Click, ShortLink
from tests.conftest import make_customers

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


def _campaign_with_clicks(template: Template, name: str, clicks_per_recipient: list[int], *, bots: int = 0) -> Campaign:
    campaign = Campaign.objects.create(
        org=template.org, name=name, template=template, status=Campaign.Status.DISPATCHED, launched_at=timezone.now()
    )
    customers = (
        make_customers(template.org, len(clicks_per_recipient))
        if not template.org.customers.exists()
        else list(template.org.customers.order_by("pk")[: len(clicks_per_recipient)])
    )
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
    rows = []
    for message, count in zip(messages, clicks_per_recipient, strict=True):
        for _ in range(count):
            rows.append(_click(link, message, PHONE, is_bot=False))
    rows += [_click(link, messages[0], "WhatsApp/2.23.20.0 A", is_bot=True) for _ in range(bots)]
    Click.objects.bulk_create(rows)
    return campaign


def _click(link: ShortLink, message: Message, agent: str, *, is_bot: bool) -> Click:
    return Click(
        event_id=uuid.uuid4().hex,
        short_link=link,
        campaign=link.campaign,
        message=message,
        channel=link.campaign.template.channel,
        clicked_at=timezone.now(),
        ip_hash=services.hash_ip("203.0.113.7"),
        user_agent=agent,
        is_bot=is_bot,
    )


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(org=org, name="Newsletter", channel="email", subject="News", body="Read {#var#}")


def test_counts_by_channel_and_campaign_leave_bots_out(client, manager, template, email_template):
    # given an SMS campaign (3 recipients clicking 2, 1 and 0 times, plus previews) and an email campaign
    _campaign_with_clicks(template, "Diwali SMS", [2, 1, 0], bots=4)
    _campaign_with_clicks(email_template, "Diwali email", [1, 1])
    client.force_login(manager)

    # when the manager opens Insights
    page = client.get(reverse("insights:overview")).content.decode()

    # then each channel and campaign shows its unique and total human clicks
    assert '<tr data-channel="sms"><td>SMS</td><td data-figure="unique">2</td><td data-figure="total">3</td>' in page
    assert (
        '<tr data-channel="email"><td>Email</td><td data-figure="unique">2</td><td data-figure="total">2</td>' in page
    )
    assert "Diwali SMS</a></td><td>SMS</td>\n      <td>3</td><td>2</td><td>3</td><td>66.7%</td>" in page


def test_csv_export_has_one_row_per_campaign(client, manager, template):
    _campaign_with_clicks(template, "Diwali SMS", [3, 1])
    client.force_login(manager)
    response = client.get(reverse("insights:export"))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["campaign", "channel", "delivered", "unique_click_count", "total_click_count", "click_rate_percent"],
        ["Diwali SMS", "sms", "2", "2", "4", "100.0"],
    ]


def test_another_orgs_insights_are_not_found(client, outsider, template):
    _campaign_with_clicks(template, "Private", [1])
    client.force_login(outsider)
    assert client.get(reverse("insights:overview"), {"org": template.org_id}).status_code == 404
    assert client.get(reverse("insights:export"), {"org": template.org_id}).status_code == 404
    assert "Private" not in client.get(reverse("insights:overview")).content.decode()


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("insights:overview"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_page_queries_do_not_grow_with_campaigns(client, manager, template, django_assert_max_num_queries):
    make_customers(template.org, 3)
    for n in range(6):
        _campaign_with_clicks(template, f"Campaign {n}", [1, 2, 0])
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("insights:overview"), {"period": "all"})
    assert response.content.decode().count("/campaigns/") >= 6
