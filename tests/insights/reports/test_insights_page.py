"""The Insights page: Unique and Total Click Count by channel, campaign and day, for the user's own org only."""

import csv
import html
import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Template
from delivery.models import Message
from linktrack import services
from linktrack.models import Click, ShortLink
from tests.factories import CampaignFactory, MembershipFactory, make_customers

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
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
    rows = _csv(response)
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


# --- Channel filter, by-day split per channel, custom period -------------------------------------------------------

DAY_ONE = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # 17:30 in India
DAY_TWO = DAY_ONE + timedelta(days=1)
IST = ZoneInfo("Asia/Kolkata")


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
    Click.objects.bulk_create(
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


@pytest.fixture
def two_channels(org, template, email_template):
    """Day one: SMS recipients clicking 2 and 1 times, one email recipient once (and a link preview, never counted).
    Day two: the email recipient twice more; the SMS recipient who clicked twice, once more."""
    make_customers(org, 3)
    sms_link, sms = _sent_campaign(template, "Diwali SMS", 2)
    email_link, email = _sent_campaign(email_template, "Diwali email", 1)
    _hits(sms_link, sms[0], DAY_ONE, 2)
    _hits(sms_link, sms[1], DAY_ONE)
    _hits(sms_link, sms[1], DAY_ONE, agent="WhatsApp/2.23.20.0 A")
    _hits(email_link, email[0], DAY_ONE)
    _hits(email_link, email[0], DAY_TWO, 2)
    _hits(sms_link, sms[0], DAY_TWO)
    return org


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


def test_by_day_shows_sms_and_email_side_by_side_with_the_days_totals(client, manager, two_channels):
    client.force_login(manager)

    page = _page(client, period="custom", **{"from": "2026-11-10", "to": "2026-11-11"})

    # then per day: SMS unique, total; Email unique, total; the day's unique, total
    assert _day_rows(page) == {
        "2026-11-10": ["2", "3", "1", "1", "3", "4"],
        "2026-11-11": ["1", "1", "1", "2", "2", "3"],
    }
    assert '<th colspan="2">SMS</th><th colspan="2">Email</th>' in page
    assert "a person who clicked an SMS and an email counts once in each channel" in page


@pytest.mark.parametrize(
    ("channel", "days", "campaigns", "by_channel"),
    [
        ("sms", {"2026-11-10": ["2", "3"], "2026-11-11": ["1", "1"]}, ["Diwali SMS"], ["sms"]),
        ("email", {"2026-11-10": ["1", "1"], "2026-11-11": ["1", "2"]}, ["Diwali email"], ["email"]),
    ],
)
def test_channel_filter_limits_every_table(client, manager, two_channels, channel, days, campaigns, by_channel):
    client.force_login(manager)

    page = _page(client, period="all", channel=channel)

    assert _day_rows(page) == days
    assert _campaign_names(page) == campaigns
    assert re.findall(r'<tr data-channel="(\w+)">', page) == by_channel
    assert "counts once in each channel" not in page  # one channel: nothing is added up


def test_all_channels_list_both_campaigns_and_channels(client, manager, two_channels):
    client.force_login(manager)
    page = _page(client, period="all")
    assert sorted(_campaign_names(page)) == ["Diwali SMS", "Diwali email"]
    assert re.findall(r'<tr data-channel="(\w+)">', page) == ["email", "sms"]
    assert '<tr data-channel="sms"><td>SMS</td><td data-figure="unique">2</td><td data-figure="total">4</td>' in page


def test_export_carries_the_channel_and_period_and_names_them(client, manager, two_channels):
    client.force_login(manager)
    params = {"period": "custom", "from": "2026-11-11", "to": "2026-11-11", "channel": "email"}

    response = client.get(reverse("insights:export"), params)

    assert _csv(response)[1:] == [["Diwali email", "email", "1", "1", "2", "100.0"]]
    assert response["Content-Disposition"] == (
        f'attachment; filename="insights-{two_channels.pk}-2026-11-11-to-2026-11-11-email.csv"'
    )


def test_export_of_sms_leaves_email_campaigns_out(client, manager, two_channels):
    client.force_login(manager)
    response = client.get(reverse("insights:export"), {"period": "all", "channel": "sms"})
    assert _csv(response)[1:] == [["Diwali SMS", "sms", "2", "2", "4", "100.0"]]
    assert response["Content-Disposition"].endswith(f'filename="insights-{two_channels.pk}-all-time-sms.csv"')


def test_export_link_on_the_page_carries_the_current_filters(client, manager, two_channels):
    client.force_login(manager)
    params = {"org": two_channels.pk, "period": "custom", "from": "2026-11-10", "to": "2026-11-11", "channel": "sms"}

    page = _page(client, **params)

    href = html.unescape(re.search(r'<a id="export" href="([^"]+)"', page).group(1))
    assert href == f"{reverse('insights:export')}?{urlencode(params)}"
    assert _csv(client.get(href))[1:] == [["Diwali SMS", "sms", "2", "2", "4", "100.0"]]


def test_preset_period_file_name_gives_its_days(client, manager, org):
    client.force_login(manager)
    today = timezone.now().astimezone(IST).date()
    response = client.get(reverse("insights:export"), {"period": "7"})
    first = (today - timedelta(days=6)).isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="insights-{org.pk}-{first}-to-{today}.csv"'


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/New_York"])
def test_custom_period_includes_both_days_whole_in_the_orgs_time_zone(client, manager, org, template, zone):
    # given clicks just inside and just outside 10 to 12 November on the org's clock
    org.timezone = zone
    org.save(update_fields=["timezone"])
    make_customers(org, 4)
    local = ZoneInfo(zone)
    link, messages = _sent_campaign(template, "Diwali SMS", 4)
    _hits(link, messages[0], datetime(2026, 11, 9, 23, 59, 59, tzinfo=local))  # before "from"
    _hits(link, messages[1], datetime(2026, 11, 10, 0, 0, tzinfo=local))  # first moment of "from"
    _hits(link, messages[2], datetime(2026, 11, 12, 23, 59, tzinfo=local))  # 23:59 on "to"
    _hits(link, messages[3], datetime(2026, 11, 13, 0, 0, tzinfo=local))  # 00:00 the next day
    client.force_login(manager)

    # when the manager asks for 10 to 12 November
    page = _page(client, period="custom", **{"from": "2026-11-10", "to": "2026-11-12"})

    # then only the two clicks inside count, each on its own local day
    assert '<td data-figure="unique">2</td><td data-figure="total">2</td>' in page
    assert _day_rows(page) == {
        "2026-11-10": ["1", "1", "0", "0", "1", "1"],
        "2026-11-12": ["1", "1", "0", "0", "1", "1"],
    }
    assert "10 Nov 2026 to 12 Nov 2026" in page


def test_dates_without_a_period_mean_those_dates(client, manager, two_channels):
    client.force_login(manager)
    page = _page(client, **{"from": "2026-11-11"})
    assert list(_day_rows(page)) == ["2026-11-11"]
    assert "since 11 Nov 2026" in page


def test_preset_period_counts_whole_days_back_from_today(client, manager, org, template):
    make_customers(org, 2)
    today = timezone.now().astimezone(IST).date()
    noon = datetime.combine(today, datetime.min.time(), tzinfo=IST) + timedelta(hours=12)
    link, messages = _sent_campaign(template, "Diwali SMS", 2, launched_at=noon - timedelta(days=7))
    _hits(link, messages[0], noon - timedelta(days=6))  # the 7th day back, counting today
    _hits(link, messages[1], noon - timedelta(days=7))  # the 8th
    client.force_login(manager)

    page = _page(client, period="7")

    assert list(_day_rows(page)) == [(today - timedelta(days=6)).isoformat()]


def _error_after(page: str, field: str, error: str) -> bool:
    """The error is shown next to the field: after its input, before the next field's label (or the form's end)."""
    start = page.index(f'name="{field}"')
    end = min(found for found in (page.find("<label", start), page.find("</form>", start)) if found != -1)
    return error in page[start:end]


@pytest.mark.parametrize(
    ("params", "field", "error"),
    [
        ({"period": "custom", "from": "2026-11-31"}, "from", "Enter a date such as 2026-11-20"),
        ({"period": "custom", "from": "yesterday", "to": "2026-11-12"}, "from", "Enter a date such as 2026-11-20"),
        ({"period": "custom", "to": "0001-01-01"}, "to", "Enter a day between 1 Jan 2000 and 31 Dec 2999"),
        (
            {"period": "custom", "from": "2026-11-12", "to": "2026-11-10"},
            "to",
            "“To” is before “From”: choose 12 Nov 2026 or a later day.",
        ),
        ({"period": "custom"}, "from", "Custom dates need a “From” day, a “To” day, or both."),
        ({"period": "45"}, "period", "Choose one of the periods offered."),
    ],
)
def test_a_period_that_makes_no_sense_is_an_error_beside_its_field_and_the_default_is_shown(
    client, manager, org, template, params, field, error
):
    # given a click today and one 40 days ago
    make_customers(org, 2)
    now = timezone.now()
    link, messages = _sent_campaign(template, "Diwali SMS", 2, launched_at=now - timedelta(days=40))
    _hits(link, messages[0], now)
    _hits(link, messages[1], now - timedelta(days=40))
    client.force_login(manager)

    page = _page(client, **params)

    # then the error is in words next to its field, and the last 30 days are shown
    assert _error_after(page, field, error)
    assert "the default period is shown" in page
    assert '<td data-figure="unique">1</td><td data-figure="total">1</td>' in page
    assert client.get(reverse("insights:export"), params).status_code == 200


def test_an_unknown_channel_is_an_error_and_all_channels_are_shown(client, manager, two_channels):
    client.force_login(manager)
    page = _page(client, period="all", channel="whatsapp")
    assert _error_after(page, "channel", "Choose SMS, Email or all channels.")
    assert sorted(_campaign_names(page)) == ["Diwali SMS", "Diwali email"]


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

    # session, user, the user's orgs, clicks by channel, clicks by campaign, campaigns, clicks by day and channel
    with django_assert_num_queries(7):
        page = _page(client, **params)

    assert len(_day_rows(page)) == days
