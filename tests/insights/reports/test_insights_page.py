"""The Insights page: Unique and Total Click Count by channel, campaign and day, for the user's own org only."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Template
from delivery.models import Message
from linktrack import services
from linktrack.models import Click, ShortLink
from tests.factories import CampaignFactory, MembershipFactory, make_customers, store_clicks
from tests.insights.reports.helpers import (
    DAY_ONE,
    PHONE,
    _campaign_names,
    _csv,
    _day_rows,
    _hits,
    _page,
    _sent_campaign,
)


def _campaign_with_clicks(template: Template, name: str, clicks_per_recipient: list[int], *, bots: int = 0) -> Campaign:
    campaign = CampaignFactory(
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
    store_clicks(rows)
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
    rows = _csv(response)
    assert rows[0][:7] == [
        "campaign",
        "channel",
        "delivered",
        "unique_click_count",
        "total_click_count",
        "click_rate_percent",
        "click_rate_of",
    ]
    assert rows[1:] == [["Diwali SMS", "sms", "2", "2", "4", "100.0", "delivered", "0", "", "0", "0", "", "0", "", ""]]


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
    with django_assert_max_num_queries(12):
        response = client.get(reverse("insights:overview"), {"period": "all"})
    assert response.content.decode().count("/campaigns/") >= 6


@pytest.mark.parametrize("view", ["insights:overview", "insights:export"])
def test_org_parameter_cannot_show_another_orgs_figures(client, outsider, two_channels, view):
    client.force_login(outsider)
    for org_param in (two_channels.pk, "not-a-number"):
        params = {"org": org_param, "period": "all", "channel": "sms"}
        assert client.get(reverse(view), params).status_code == 404


def test_a_member_of_two_orgs_sees_each_orgs_own_figures(client, manager, two_channels, other_org):
    # given the manager also belongs to another org, with an SMS click of its own
    MembershipFactory(user=manager, org=other_org)
    make_customers(other_org, 1)
    theirs = Template.objects.create(org=other_org, name="Sale", body="Sale {#var#}")
    link, messages = _sent_campaign(theirs, "Their SMS", 1)
    _hits(link, messages[0], DAY_ONE)
    client.force_login(manager)

    mine = _page(client, org=two_channels.pk, period="all", channel="sms")
    other = _page(client, org=other_org.pk, period="all", channel="sms")

    assert _campaign_names(mine) == ["Diwali SMS"] and _campaign_names(other) == ["Their SMS"]
    assert _day_rows(other) == {"2026-11-10": ["1", "1"]}
    assert f'<option value="{other_org.pk}" selected>' in other


@pytest.mark.parametrize("days", [1, 12])
def test_page_is_a_fixed_number_of_queries_whatever_the_days_and_clicks(
    client, manager, org, template, email_template, days, django_assert_num_queries
):
    # given clicks on both channels on `days` different days
    make_customers(org, 3)
    sms_link, sms = _sent_campaign(template, "Diwali SMS", 3)
    email_link, email = _sent_campaign(email_template, "Diwali email", 3)
    for day in range(days):
        _hits(sms_link, sms[day % 3], DAY_ONE + timedelta(days=day), 2)
        _hits(email_link, email[day % 3], DAY_ONE + timedelta(days=day))
    client.force_login(manager)
    params = {"period": "custom", "from": "2026-11-01", "to": "2026-12-31"}

    # session, user, the user's orgs, then from the click counters totals and clickers by channel, by campaign and
    # by day and channel, delivered messages per campaign from the message counters, the campaigns, and which of
    # them have sales counters (none here)
    with django_assert_num_queries(12):
        page = _page(client, **params)

    assert len(_day_rows(page)) == days
