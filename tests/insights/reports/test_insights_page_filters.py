"""The Insights page's filters: the channel, the by-day split per channel, a preset or custom period; the CSV
carries them."""

import html
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_customers
from tests.insights.reports.helpers import _campaign_names, _csv, _day_rows, _hits, _page, _sent_campaign

IST = ZoneInfo("Asia/Kolkata")


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

    assert [row[:7] for row in _csv(response)[1:]] == [["Diwali email", "email", "1", "1", "2", "100.0", "delivered"]]
    assert response["Content-Disposition"] == (
        f'attachment; filename="insights-{two_channels.pk}-2026-11-11-to-2026-11-11-email.csv"'
    )


def test_export_of_sms_leaves_email_campaigns_out(client, manager, two_channels):
    client.force_login(manager)
    response = client.get(reverse("insights:export"), {"period": "all", "channel": "sms"})
    assert [row[:7] for row in _csv(response)[1:]] == [["Diwali SMS", "sms", "2", "2", "4", "100.0", "delivered"]]
    assert response["Content-Disposition"].endswith(f'filename="insights-{two_channels.pk}-all-time-sms.csv"')


def test_export_link_on_the_page_carries_the_current_filters(client, manager, two_channels):
    client.force_login(manager)
    params = {"org": two_channels.pk, "period": "custom", "from": "2026-11-10", "to": "2026-11-11", "channel": "sms"}

    page = _page(client, **params)

    href = html.unescape(re.search(r'<a id="export" href="([^"]+)"', page).group(1))
    assert href == f"{reverse('insights:export')}?{urlencode(params)}"
    assert [row[:7] for row in _csv(client.get(href))[1:]] == [
        ["Diwali SMS", "sms", "2", "2", "4", "100.0", "delivered"]
    ]


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
