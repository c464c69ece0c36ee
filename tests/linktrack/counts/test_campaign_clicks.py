"""The campaign page shows when people clicked after sending and on what kind of device; bots never count."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign
from delivery.models import Message
from linktrack.counts.campaign_clicks import click_devices, click_timeline
from linktrack.counts.devices import ANDROID, DESKTOP, IOS, OTHER, device_of
from linktrack.models import ShortLink
from tests.factories import sent_campaign
from tests.helpers import IST
from tests.linktrack.helpers import CHROME_ANDROID, IPHONE, SENT, add_click

SAMSUNG = "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
IPAD = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
WINDOWS_EDGE = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0"
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (CHROME_ANDROID, ANDROID),
        (SAMSUNG, ANDROID),
        (IPHONE, IOS),
        (IPAD, IOS),
        (WINDOWS_CHROME, DESKTOP),
        (WINDOWS_EDGE, DESKTOP),
        (MAC_FIREFOX, DESKTOP),
        (LINUX_FIREFOX, DESKTOP),
        ("", OTHER),
        ("}{ not an agent", OTHER),
    ],
)
def test_the_device_of_a_click_is_read_from_its_user_agent(agent, device):
    assert device_of(agent) == device


@pytest.fixture
def sent(template) -> tuple[Campaign, ShortLink, list[Message]]:
    return sent_campaign(template, SENT)


def test_the_timeline_counts_people_per_hour_after_sending_then_per_day(sent):
    # given clicks 15 and 45 minutes, and 65 minutes after sending, a preview bot, and one three days later
    campaign, link, messages = sent
    add_click(link, messages[0], SENT + timedelta(minutes=15))
    add_click(link, messages[1], SENT + timedelta(minutes=45))
    add_click(link, messages[1], SENT + timedelta(minutes=65))
    add_click(link, messages[2], SENT + timedelta(minutes=5), agent="WhatsApp/2.23.20.0 A", bot=True)
    add_click(link, messages[2], SENT + timedelta(days=3))

    timeline = click_timeline(campaign=campaign)

    # then the hours start at 10:00 IST, the bot is left out, and the late click is on its day
    assert timeline.hours[0].start == datetime(2026, 11, 20, 10, 0, tzinfo=IST)
    assert [hour.total for hour in timeline.hours[:3]] == [2, 1, 0]
    assert sum(hour.total for hour in timeline.hours) == 3 and len(timeline.hours) == 48
    assert timeline.later_days == [(datetime(2026, 11, 23).date(), 1)]
    assert (timeline.total, timeline.first_click_minutes, timeline.half_within_hours) == (4, 15, 1)


def test_devices_count_clicks_and_recipients_exactly_and_leave_bots_out(sent):
    campaign, link, messages = sent
    for message in (messages[0], messages[0], messages[1]):
        add_click(link, message, SENT, agent=CHROME_ANDROID)
    add_click(link, messages[1], SENT, agent=SAMSUNG)  # the same recipient on another Android browser
    add_click(link, messages[2], SENT, agent=IPHONE)
    add_click(link, None, SENT, agent=WINDOWS_CHROME)  # a forwarded link: no recipient
    add_click(link, messages[2], SENT, agent="facebookexternalhit/1.1", bot=True)

    rows = [(row.name, row.total, row.recipients) for row in click_devices(campaign_id=campaign.pk)]

    assert rows == [("Android", 4, 2), ("Desktop", 1, 0), ("iPhone / iPad", 1, 1)]


def test_the_campaign_page_shows_timing_and_devices_in_the_same_queries_for_10_clicks_as_for_200(client, manager, sent):
    campaign, link, messages = sent
    client.force_login(manager)
    counts = []
    for start, end in ((0, 10), (10, 200)):
        for n in range(start, end):
            add_click(link, messages[n % 3], SENT + timedelta(minutes=20 + n), agent=(CHROME_ANDROID, IPHONE)[n % 2])
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
        counts.append(len(captured))
        assert "First click 20 minutes after sending" in page
        assert f'<tr><th scope="row">Android</th><td>{end // 2}</td><td>3</td></tr>' in page
        timeline = page.split('id="click-timeline"')[1].split("</svg>")[0]
        assert timeline.count('<rect class="chart-series-0"') == 48
    assert counts[0] == counts[1]
