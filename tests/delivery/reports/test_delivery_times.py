"""Delivery speed: how fast a campaign's messages were delivered, from the receipts that delivered them."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from campaigns.models import Campaign, Channel
from campaigns.sending.supervisor import campaigns_supervise
from delivery import services
from delivery.gateways.base import Receipt
from delivery.models import Message
from delivery.reports.delivery_times import delivery_speed, duration_in_words
from delivery.reports.selectors import delivery_counts
from insights.api import keys as api_keys
from tests.factories import create_campaign, make_customers
from tests.helpers import launch

# Seconds from the hand-over to the receipt of the 11 delivered messages (10 s exactly counts as within 10 s).
DELIVERY_SECONDS = [1, 2, 3, 4, 5, 10, 30, 45, 300, 4000, 4010]


class DeliveryClock:
    """The clock of delivery.services (delivery.services.clock): when messages are handed to the gateway and when receipts arrive."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


@pytest.fixture
def delivery_clock(monkeypatch, settings) -> DeliveryClock:
    settings.SIMULATED_GATEWAY_MIX = "no_receipt:1"  # the simulated gateway accepts; receipts come from each test
    clock = DeliveryClock()
    monkeypatch.setattr(services.clock, "now", clock.now)
    return clock


def receive(campaign: Campaign, clock: DeliveryClock, outcomes: list[tuple[str, int]]) -> None:
    """Apply one receipt per message, in order of the messages: (state, seconds after its hand-over)."""
    messages = Message.objects.filter(campaign=campaign).order_by("pk")
    for message, (state, seconds) in zip(messages, outcomes, strict=True):
        clock.moment = message.sent_at + timedelta(seconds=seconds)
        services.receipts_apply(receipts=[Receipt(message.gateway_message_id, state)], org_id=campaign.org_id)


@pytest.fixture
def delivered_campaign(template, manager, clock, delivery_clock, django_capture_on_commit_callbacks) -> Campaign:
    """Launched at 12:00:00 IST, handed to the gateway at 12:00:42; 11 messages delivered after DELIVERY_SECONDS,
    one not delivered after 2 s, one still waiting for its receipt."""
    make_customers(template.org, 13)
    delivery_clock.moment = clock.moment + timedelta(seconds=42)
    campaign = launch(
        create_campaign(template, manager, name="Diwali sale"), manager, django_capture_on_commit_callbacks
    )
    receive(
        campaign,
        delivery_clock,
        [("delivered", seconds) for seconds in DELIVERY_SECONDS] + [("not_delivered", 2), ("pending", 1)],
    )
    return campaign


def test_delivery_speed_comes_from_the_receipts_of_delivered_messages(delivered_campaign, django_assert_num_queries):
    # given the campaign's receipts
    assert delivery_counts(campaign_id=delivered_campaign.pk).delivered == 11

    # when its delivery speed is computed (its template comes with the campaign, as on the pages and in the API)
    # (SQLite picks the messages at the percentiles by rank in a query of its own)
    delivered_campaign = Campaign.objects.select_related("template").get(pk=delivered_campaign.pk)
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
        speed = delivery_speed(campaign=delivered_campaign)

    # then the percentiles interpolate as PostgreSQL's percentile_cont does, on either database
    assert speed.delivered == 11
    assert speed.median == timedelta(seconds=10)
    assert speed.p90 == timedelta(seconds=4000)
    assert speed.p99 == timedelta(seconds=4009)  # 9/10 of the way from 4000 s to 4010 s
    assert [(s.key, s.count, s.percent) for s in speed.within] == [
        ("10s", 6, 54.5),
        ("1min", 8, 72.7),
        ("10min", 9, 81.8),
        ("1h", 9, 81.8),
    ]
    assert speed.send_duration == timedelta(seconds=42)


def test_a_recurring_campaign_pools_its_runs_and_gives_its_slowest_send(
    client, template, manager, clock, delivery_clock, django_capture_on_commit_callbacks
):
    # given a campaign every day at 10:00 IST to 3 customers: run 1 handed over in 20 s, run 2 in 50 s
    make_customers(template.org, 3)
    parent = create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="0 10 * * *")
    parent = launch(parent, manager, django_capture_on_commit_callbacks)
    for day, handed_over_after, seconds in ((24, 20, [1, 2, 3]), (25, 50, [4, 5, 60])):
        clock.set(2026, 11, day, 10, 0)
        delivery_clock.moment = clock.moment + timedelta(seconds=handed_over_after)
        with django_capture_on_commit_callbacks(execute=True):
            campaigns_supervise()
        run = parent.runs.get(launched_at=clock.moment)
        receive(run, delivery_clock, [("delivered", s) for s in seconds])

    # when the recurring campaign's delivery speed is computed
    speed = delivery_speed(campaign=parent)

    # then its six delivered messages count together, and the send duration is the slower run's
    assert speed.of_runs and speed.delivered == 6
    assert (speed.median, speed.p90) == (timedelta(seconds=3.5), timedelta(seconds=32.5))
    assert [s.count for s in speed.within] == [5, 6, 6, 6]
    assert speed.send_duration == timedelta(seconds=50)
    # and a run on its own has only its own
    first_run = parent.runs.order_by("pk").first()
    assert delivery_speed(campaign=first_run).delivered == 3
    # and the recurring campaign's page shows the pooled figures under all its runs
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[parent.pk])).content.decode()
    assert 'data-speed="median">3.5 s<' in page and "Longest run took" in page


def test_nothing_delivered_yet_gives_no_delivery_speed(
    template, manager, clock, delivery_clock, django_capture_on_commit_callbacks, django_assert_num_queries
):
    # given a campaign handed to the gateway whose receipts are one failure and one still to come
    make_customers(template.org, 2)
    delivery_clock.moment = clock.moment
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    receive(campaign, delivery_clock, [("not_delivered", 5), ("pending", 1)])

    # when / then
    campaign = Campaign.objects.select_related("template").get(pk=campaign.pk)
    with django_assert_num_queries(1):
        assert delivery_speed(campaign=campaign) is None
    assert "Delivery speed" not in _report(campaign)


def test_an_email_campaign_has_no_delivery_speed(delivered_campaign):
    # given a campaign whose messages were delivered, sent as email: "delivered" is the receiving server's
    # acceptance while sending, so its times say nothing
    delivered_campaign.template.channel = Channel.EMAIL

    # when / then
    assert delivery_speed(campaign=delivered_campaign) is None


def _report(campaign: Campaign) -> str:
    """The delivery part of the campaign page, with the context the page gives it."""
    request = RequestFactory().get(f"/campaigns/{campaign.pk}/")
    context = {
        "campaign": campaign,
        "counts": delivery_counts(campaign_id=campaign.pk),
        "delivery_speed": delivery_speed(campaign=campaign),
    }
    return render_to_string("delivery/report.html", context, request=request)


def test_the_report_says_how_fast_messages_were_delivered(delivered_campaign):
    page = _report(delivered_campaign)

    assert "Delivery speed" in page
    assert 'data-speed="median">10 s<' in page
    assert 'data-speed="p90">1 h 6 min<' in page
    assert 'data-speed="p99">1 h 6 min<' in page
    assert "Sending took" in page and 'data-speed="send_duration">42 s<' in page
    assert "Of the 11 delivered messages:" in page
    assert '<span data-within="10s">54.5% within 10 seconds</span>' in page
    assert '<span data-within="1h">81.8% within 1 hour</span>' in page


def test_the_reporting_api_gives_the_delivery_speed(client, org, manager, delivered_campaign):
    raw_key = api_keys.api_key_create(org=org, user=manager, name="BI")[1]

    answer = client.get(f"/api/v1/campaigns/{delivered_campaign.pk}/", headers={"Authorization": f"Bearer {raw_key}"})

    assert answer.status_code == 200
    assert answer.json()["delivery_speed"] == {
        "delivered": 11,
        "median_seconds": 10.0,
        "p90_seconds": 4000.0,
        "p99_seconds": 4009.0,
        "within_percent": {"10s": 54.5, "1min": 72.7, "10min": 81.8, "1h": 81.8},
        "send_duration_seconds": 42.0,
    }


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 s"),
        (4.5, "4.5 s"),
        (42.4, "42 s"),
        (60, "1 min"),
        (111, "1 min 51 s"),
        (7500, "2 h 5 min"),
        (86400 + 4 * 3600, "1 day 4 h"),
        (3 * 86400, "3 days"),
    ],
)
def test_durations_read_in_the_two_largest_units(seconds, words):
    assert duration_in_words(timedelta(seconds=seconds)) == words


def test_the_campaign_page_shows_the_delivery_speed(client, manager, delivered_campaign):
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[delivered_campaign.pk])).content.decode()
    assert 'data-speed="p90">1 h 6 min<' in page and "Sending took" in page
