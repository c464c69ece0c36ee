"""The click counters against the stored clicks: count a campaign's clicks again, compare with its counters
(every difference in words), and rebuild them. For clicks stored before the counters existed, and as the nightly
check that nothing was lost or counted twice.

Once old months of clicks were dropped (CLICK_RETENTION_MONTHS, a ClickRetention), the counters of those months have
no clicks left to count: a campaign whose counters reach back before the first whole day kept (on its org's clock) is
compared from that day on only, and is never rebuilt, since rebuilding would lose the figures of the dropped months.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, Max, Min, OuterRef, Sum

from campaigns.models import Campaign
from linktrack.counts.counters import counters_rebuild
from linktrack.counts.tally import CountedClick, Tally
from linktrack.models import (
    Click,
    ClickerDay,
    ClickerDevice,
    ClickRetention,
    DailyClicks,
    HourlyClicks,
    UniqueClickers,
)

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


class CountersKeepDroppedClicks(Exception):
    """A rebuild refused: the campaign's counters hold the figures of clicks dropped since (CLICK_RETENTION_MONTHS)."""


def first_day_kept(zone: ZoneInfo) -> date | None:
    """The first whole day on this clock whose clicks are all kept; None when no click was ever dropped."""
    kept_from = ClickRetention.objects.aggregate(kept_from=Max("kept_from"))["kept_from"]
    if kept_from is None:
        return None
    local = kept_from.astimezone(zone)
    return local.date() if local.time() == time.min else local.date() + timedelta(days=1)


def _counted_before(*, campaign_id: int, zone: ZoneInfo) -> date | None:
    """The first day kept, when the campaign's counters reach back before it (they count dropped clicks)."""
    day = first_day_kept(zone)
    if day is not None and DailyClicks.objects.filter(campaign_id=campaign_id, day__lt=day).exists():
        return day
    return None


def _zone_of(campaign_id: int) -> ZoneInfo:
    return ZoneInfo(Campaign.objects.filter(pk=campaign_id).values_list("org__timezone", flat=True).get())


def campaign_counters_rebuild(*, campaign_id: int) -> None:
    """Replace a campaign's counters by a count of its stored clicks. Refused (CountersKeepDroppedClicks) when its
    counters count clicks dropped since: those figures would be lost."""
    since = _counted_before(campaign_id=campaign_id, zone=_zone_of(campaign_id))
    if since is not None:
        raise CountersKeepDroppedClicks(
            f"campaign {campaign_id}: not rebuilt, its counters hold clicks from before {since.isoformat()} that "
            "were dropped since (CLICK_RETENTION_MONTHS); a rebuild would lose them"
        )
    counters_rebuild(campaign_id=campaign_id, clicks=counted_clicks(campaign_id=campaign_id))


def campaign_counters_differences(*, campaign_id: int) -> list[str]:
    """Where a campaign's counters differ from a count of its stored clicks, in words; empty when they agree.

    When its counters reach back before the first day kept (clicks dropped since), from that day on only: the days
    before it, and a clicker's day before it, are left out on both sides, and a recipient's devices are checked
    only for those the clicks kept show (the first click on a device may have been dropped)."""
    zone = _zone_of(campaign_id)
    since = _counted_before(campaign_id=campaign_id, zone=zone)
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
    first_day, first_hour = date.min, None
    if since is not None:
        first_day, first_hour = since, datetime.combine(since, time.min, tzinfo=zone)
    kept = {"day__gte": first_day}
    compare(
        "clicks on link/day",
        _sums(DailyClicks.objects.filter(**mine, **kept), ("short_link_id", "day"), "total"),
        _without_zeros(
            {(link, day): total for (_, _, _, link, day), total in expected.daily.items() if day >= first_day}
        ),
    )
    compare(
        "clickers on link/day/day before",
        _earlier_as_none(
            _sums(UniqueClickers.objects.filter(**mine, **kept), ("short_link_id", "day", "previous_day"), "clickers"),
            first_day,
        ),
        _earlier_as_none(
            {
                (link, day, previous): change
                for (_, _, _, link, day, previous), change in expected.unique.items()
                if day >= first_day
            },
            first_day,
        ),
    )
    hourly = HourlyClicks.objects.filter(**mine)
    expected_hourly = expected.hourly.items()
    if first_hour is not None:
        hourly = hourly.filter(hour__gte=first_hour)
        expected_hourly = [(key, counts) for key, counts in expected_hourly if key[1] >= first_hour]
    compare(
        "clicks in hour/device",
        _sums(hourly, ("hour", "device"), "clicks"),
        {(hour, device): counts.clicks for (_, hour, device), counts in expected_hourly},
    )
    compare(
        "first click in hour/device",
        {
            (hour, device): first
            for hour, device, first in hourly.values_list("hour", "device").annotate(first=Min("first_click_at"))
        },
        {(hour, device): counts.first_click_at for (_, hour, device), counts in expected_hourly},
    )
    if since is None:
        recipients: Counter = Counter()
        for (_, _, device), counts in expected.hourly.items():
            recipients[device] += counts.new_recipients
        compare("recipients on device", _sums(hourly, ("device",), "new_recipients"), _without_zeros(recipients))
    compare(
        "days known of clicker/link/day",
        Counter(ClickerDay.objects.filter(**mine, **kept).values_list("clicker", "short_link_id", "day")),
        Counter((clicker, link, day) for _, clicker, _, link, day in expected.new_days if day >= first_day),
    )
    devices_kept = Counter((clicker, device) for _, clicker, device in expected.new_devices)
    devices_known = Counter(ClickerDevice.objects.filter(**mine).values_list("clicker", "device"))
    if since is not None:
        devices_known = Counter({key: count for key, count in devices_known.items() if key in devices_kept})
    compare("devices known of clicker/device", devices_known, devices_kept)
    return differences


def _earlier_as_none(figures: dict, first_day: date) -> dict:
    """Clickers per (link, day, day before), a day before `first_day` counted as none (its clicks were dropped)."""
    merged: Counter = Counter()
    for (link, day, previous), change in figures.items():
        merged[(link, day, None if previous is not None and previous < first_day else previous)] += change
    return _without_zeros(merged)


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
