"""The click counters against the stored clicks: count a campaign's clicks again, compare with its counters
(every difference in words), and rebuild them. For clicks stored before the counters existed, and as the nightly
check that nothing was lost or counted twice.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Exists, Min, OuterRef, Sum

from campaigns.models import Campaign
from linktrack.counts.counters import counters_rebuild
from linktrack.counts.tally import CountedClick, Tally
from linktrack.models import Click, ClickerDay, ClickerDevice, DailyClicks, HourlyClicks, UniqueClickers

CHUNK = 5000


def counted_clicks(*, campaign_id: int) -> Iterator[CountedClick]:
    """A campaign's stored human clicks, in the order they were stored, as the counters count them."""
    org_id, zone = Campaign.objects.filter(pk=campaign_id).values_list("org_id", "org__timezone").get()
    zone = ZoneInfo(zone)
    rows = (
        Click.objects.filter(campaign_id=campaign_id, is_bot=False)
        .order_by("pk")
        .values_list("channel", "short_link_id", "message_id", "clicked_at", "ip_hash", "user_agent")
    )
    for channel, short_link_id, message_id, clicked_at, ip_hash, user_agent in rows.iterator(chunk_size=CHUNK):
        yield CountedClick(
            org_id=org_id,
            campaign_id=campaign_id,
            channel=channel,
            short_link_id=short_link_id,
            message_id=message_id,
            clicked_at=clicked_at,
            ip_hash=ip_hash,
            user_agent=user_agent,
            zone=zone,
        )


def campaign_counters_rebuild(*, campaign_id: int) -> None:
    """Replace a campaign's counters by a count of its stored clicks."""
    counters_rebuild(campaign_id=campaign_id, clicks=counted_clicks(campaign_id=campaign_id))


def campaign_counters_differences(*, campaign_id: int) -> list[str]:
    """Where a campaign's counters differ from a count of its stored clicks, in words; empty when they agree."""
    expected = Tally()
    for click in counted_clicks(campaign_id=campaign_id):
        expected.add(click)
    differences = []

    def compare(what: str, counted: dict, stored: dict) -> None:
        for key in sorted(set(counted) | set(stored), key=str):
            if counted.get(key, 0) != stored.get(key, 0):
                differences.append(
                    f"campaign {campaign_id}, {what} {_words(key)}: the counters say {counted.get(key, 0)}, "
                    f"the stored clicks {stored.get(key, 0)}"
                )

    mine = {"campaign_id": campaign_id}
    compare(
        "clicks on link/day",
        _sums(DailyClicks.objects.filter(**mine), ("short_link_id", "day"), "total"),
        _without_zeros({(link, day): total for (_, _, _, link, day), total in expected.daily.items()}),
    )
    compare(
        "clickers on link/day/day before",
        _sums(UniqueClickers.objects.filter(**mine), ("short_link_id", "day", "previous_day"), "clickers"),
        _without_zeros(
            {(link, day, previous): change for (_, _, _, link, day, previous), change in expected.unique.items()}
        ),
    )
    hourly = HourlyClicks.objects.filter(**mine)
    compare(
        "clicks in hour/device",
        _sums(hourly, ("hour", "device"), "clicks"),
        {(hour, device): counts.clicks for (_, hour, device), counts in expected.hourly.items()},
    )
    compare(
        "first click in hour/device",
        {
            (hour, device): first
            for hour, device, first in hourly.values_list("hour", "device").annotate(first=Min("first_click_at"))
        },
        {(hour, device): counts.first_click_at for (_, hour, device), counts in expected.hourly.items()},
    )
    recipients: Counter = Counter()
    for (_, _, device), counts in expected.hourly.items():
        recipients[device] += counts.new_recipients
    compare("recipients on device", _sums(hourly, ("device",), "new_recipients"), _without_zeros(recipients))
    compare(
        "days known of clicker/link/day",
        Counter(ClickerDay.objects.filter(**mine).values_list("clicker", "short_link_id", "day")),
        Counter((clicker, link, day) for _, clicker, _, link, day in expected.new_days),
    )
    compare(
        "devices known of clicker/device",
        Counter(ClickerDevice.objects.filter(**mine).values_list("clicker", "device")),
        Counter((clicker, device) for _, clicker, device in expected.new_devices),
    )
    return differences


def _sums(rows, keys: tuple[str, ...], figure: str) -> dict:
    sums = rows.values_list(*keys).annotate(figure=Sum(figure)).order_by()
    return _without_zeros({(key[0] if len(key) == 1 else tuple(key)): value for *key, value in sums})


def _without_zeros(figures: dict) -> dict:
    return {key: value for key, value in figures.items() if value}


def _words(key) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    return " / ".join(
        "none" if part is None else part.isoformat() if isinstance(part, datetime) else str(part) for part in parts
    )


def campaigns_with_clicks(*, org_id: int | None = None) -> list[int]:
    campaigns = Campaign.objects.all() if org_id is None else Campaign.objects.filter(org_id=org_id)
    has_clicks = Exists(Click.objects.filter(campaign=OuterRef("pk")))
    return list(campaigns.filter(has_clicks).order_by("pk").values_list("pk", flat=True))


def campaigns_without_counters(*, campaign_ids: list[int]) -> list[int]:
    counted = set(
        ClickerDay.objects.filter(campaign_id__in=campaign_ids).values_list("campaign_id", flat=True).distinct()
    )
    return [pk for pk in campaign_ids if pk not in counted]
