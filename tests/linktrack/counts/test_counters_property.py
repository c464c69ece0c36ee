"""Every click figure, read from the click counters, equals a count of the stored clicks: whatever clicks come (repeat
clicks, bots, both channels, around midnight on the org's clock, out of order), however they are stored (the same
batch twice, merged or not), and after a customer is erased or a campaign deleted.

The recount here is written from the README's definitions, on the raw clicks, independently of the counters' code.
"""

import os
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.customers.erasure import customer_erase
from campaigns.customers.follow_up import CLICKED, follow_up_customers
from campaigns.customers.segments import customers_matching
from campaigns.models import Campaign, Customer, Template
from linktrack import services
from linktrack.counts import click_counts as counts
from linktrack.counts.campaign_clicks import click_devices, click_timeline
from linktrack.counts.devices import DEVICE_NAMES, device_of
from linktrack.models import Click
from tests.factories import CampaignFactory, make_customers, make_messages

IST = ZoneInfo("Asia/Kolkata")
MIDNIGHT = datetime(2026, 11, 20, 0, 0, tzinfo=IST)
AGENTS = [
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "WhatsApp/2.23.20.0 A",  # a link preview: stored, never counted
]
# Minutes from midnight of 20 November (India): either side of three midnights, and in the middle of the days.
MINUTES = [day * 1440 + offset for day in range(3) for offset in (-1, 0, 1, 600)] + [5 * 1440 + 30]

click = st.fixed_dictionaries(
    {
        "campaign": st.integers(0, 2),  # 0: SMS, 1: email, 2: SMS that may be deleted
        "link": st.integers(0, 1),
        "recipient": st.one_of(st.none(), st.integers(0, 2)),
        "minute": st.sampled_from(MINUTES),
        "ip": st.integers(0, 1),
        "agent": st.integers(0, len(AGENTS) - 1),
    }
)
story = st.fixed_dictionaries(
    {
        "batches": st.lists(st.lists(click, min_size=1, max_size=8), min_size=1, max_size=5),
        "again": st.lists(st.integers(0, 4), max_size=2),  # batches stored a second time, at the end
        "merge_after": st.one_of(st.none(), st.integers(0, 4)),
        "erase": st.booleans(),
        "delete": st.booleans(),
        "first_day": st.integers(-1, 6),
        "days": st.integers(1, 4),
    }
)


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=False)
@settings(
    max_examples=int(os.environ.get("COUNTER_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(story=story)
def test_every_figure_equals_a_recount_of_the_stored_clicks(org, sender, story):
    try:
        with transaction.atomic():
            _play(org, sender, story)
            raise Rollback
    except Rollback:
        pass


def _play(org, sender, story):
    customers = make_customers(org, 3)
    campaigns, links, messages = [], [], []
    for channel, name in (("sms", "SMS"), ("email", "Email"), ("sms", "Gone")):
        template = Template.objects.create(org=org, name=name, channel=channel, sender=sender, body="Hi {#var#}")
        campaign = CampaignFactory(org=org, name=name, template=template, status="dispatched")
        destinations = ["https://acme.test/a", "https://acme.test/b"]
        ids = services.short_links_for(campaign=campaign, destinations=destinations)
        campaigns.append(campaign)
        links.append([ids[destination] for destination in destinations])
        messages.append(
            [message.pk for message in make_messages(campaign, customers, channel=channel, status="delivered")]
        )

    def entry(number: str, event: dict) -> tuple[str, dict]:
        at = MIDNIGHT + timedelta(minutes=event["minute"])
        recipient = event["recipient"]
        return (
            number,
            {
                "link": links[event["campaign"]][event["link"]],
                "message": messages[event["campaign"]][recipient] if recipient is not None else 0,
                "at": f"{at.timestamp():.6f}",
                "ip": services.hash_ip(f"203.0.113.{event['ip']}"),
                "ua": AGENTS[event["agent"]],
                "method": "GET",
            },
        )

    batches = [[entry(f"{b}-{n}", event) for n, event in enumerate(batch)] for b, batch in enumerate(story["batches"])]
    for number, batch in enumerate(batches):
        services.clicks_store(entries=batch)
        if story["merge_after"] == number:
            services.click_counters_merge()
    for number in story["again"]:
        if number < len(batches):
            services.clicks_store(entries=batches[number])
    if story["erase"]:
        customer_erase(customer=customers[0], user=None)
    if story["delete"]:
        campaigns.pop().delete()

    first_day = MIDNIGHT.date() + timedelta(days=story["first_day"])
    last_day = first_day + timedelta(days=story["days"] - 1)
    _assert_figures_equal_the_recount(org, campaigns, first_day, last_day)


def _human_clicks(**filters) -> list[Click]:
    return list(Click.objects.filter(is_bot=False, **filters))


def _day(click: Click) -> date:
    return click.clicked_at.astimezone(IST).date()


def _recount(clicks: list[Click]) -> counts.ClickCounts:
    recipients = {c.message_id for c in clicks if c.message_id}
    # a visitor (a hit without a recipient) is one of a campaign, for a day
    visitors = {(c.campaign_id, c.ip_hash, c.user_agent, _day(c)) for c in clicks if not c.message_id}
    return counts.ClickCounts(total=len(clicks), unique=len(recipients) + len(visitors))


def _in(clicks: list[Click], first_day: date | None, last_day: date | None) -> list[Click]:
    return [
        c for c in clicks if (first_day is None or _day(c) >= first_day) and (last_day is None or _day(c) <= last_day)
    ]


def _grouped(clicks: list[Click], key) -> dict:
    groups: dict = {}
    for c in clicks:
        groups.setdefault(key(c), []).append(c)
    return {k: _recount(v) for k, v in groups.items()}


def _assert_figures_equal_the_recount(org, campaigns: list[Campaign], first_day: date, last_day: date):
    everything = _human_clicks(campaign__org=org)
    for campaign in campaigns:
        mine = [c for c in everything if c.campaign_id == campaign.pk]
        assert counts.click_counts(campaign_id=campaign.pk) == _recount(mine)
        by_link = _grouped(mine, lambda c: c.short_link_id)
        for link in counts.click_counts_by_link(campaign_id=campaign.pk):
            expected = by_link.get(link.short_link_id, counts.NO_CLICKS)
            assert (link.total, link.unique) == (expected.total, expected.unique)
        for link in counts.click_counts_by_link(campaign_id=campaign.pk, first_day=first_day, last_day=last_day):
            expected = _grouped(_in(mine, first_day, last_day), lambda c: c.short_link_id).get(
                link.short_link_id, counts.NO_CLICKS
            )
            assert (link.total, link.unique) == (expected.total, expected.unique)
        _assert_timeline_and_devices(campaign, mine)
        clickers = {c.message.customer_id for c in mine if c.message_id}
        assert set(follow_up_customers(campaign=campaign, who=CLICKED).values_list("pk", flat=True)) == clickers

    for first, last in ((first_day, last_day), (None, None), (first_day, None), (None, last_day)):
        shown = _in(everything, first, last)
        assert counts.click_counts_by_channel(org_id=org.pk, first_day=first, last_day=last) == _grouped(
            shown, lambda c: c.channel
        )
        assert counts.click_counts_by_campaign(org_id=org.pk, first_day=first, last_day=last) == _grouped(
            shown, lambda c: c.campaign_id
        )
        per_day = _grouped(shown, lambda c: (_day(c), c.channel))
        for day in counts.click_counts_by_day_and_channel(
            org_id=org.pk, channels=["sms", "email"], first_day=first, last_day=last
        ):
            for channel, figures in zip(["sms", "email"], day.per_channel, strict=True):
                assert figures == per_day.get((day.day, channel), counts.NO_CLICKS)
        assert {
            day.day
            for day in counts.click_counts_by_day_and_channel(
                org_id=org.pk, channels=["sms", "email"], first_day=first, last_day=last
            )
        } == {d for d, _ in per_day}
    assert counts.click_counts_for_campaigns(campaign_ids=[c.pk for c in campaigns]) == _grouped(
        everything, lambda c: c.campaign_id
    )
    # "clicked in the last N days" on the org's calendar, today included
    moment = MIDNIGHT + timedelta(days=2, hours=12)
    for days in (1, 2, 7):
        since = moment.date() - timedelta(days=days - 1)
        expected = {c.message.customer_id for c in everything if c.message_id and _day(c) >= since}
        matching = customers_matching(
            org=org,
            conditions=[{"behaviour": "clicked", "days": days, "channel": "any", "negate": False}],
            moment=moment,
        )
        erased = set(Customer.objects.filter(org=org, erased_at__isnull=False).values_list("pk", flat=True))
        assert set(matching.values_list("pk", flat=True)) == expected - erased


def _assert_timeline_and_devices(campaign: Campaign, mine: list[Click]):
    devices = {}
    for c in mine:
        name = DEVICE_NAMES[device_of(c.user_agent)]
        total, recipients = devices.get(name, (0, set()))
        devices[name] = (total + 1, recipients | ({c.message_id} if c.message_id else set()))
    assert {d.name: (d.total, d.recipients) for d in click_devices(campaign_id=campaign.pk)} == {
        name: (total, len(recipients)) for name, (total, recipients) in devices.items()
    }
    campaign.launched_at = MIDNIGHT - timedelta(hours=1)
    timeline = click_timeline(campaign=campaign)
    if timeline is None:  # no message was sent: nothing to put on a clock
        return
    per_hour = Counter(c.clicked_at.astimezone(IST).replace(minute=0, second=0, microsecond=0) for c in mine)
    assert timeline.total == len(mine)
    assert {h.start: h.total for h in timeline.hours if h.total} == {
        hour: n for hour, n in per_hour.items() if hour < timeline.hours[-1].start + timedelta(hours=1)
    }
    if mine:
        first = min(c.clicked_at for c in mine)
        assert timeline.first_click_minutes == max(0, int((first - timeline.sent_at).total_seconds() // 60))
