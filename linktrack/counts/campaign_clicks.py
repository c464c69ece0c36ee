"""When and on what a campaign's recipients clicked: the hours after sending and the kinds of device.

People only (bots and link previews are left out, as everywhere). Read from the hourly click counters
(linktrack.models.HourlyClicks): one query each, whatever the number of clicks.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Min, Sum

from linktrack.counts.devices import DEVICE_NAMES
from linktrack.models import HourlyClicks

TIMELINE_HOURS = 48


@dataclass(frozen=True)
class HourClicks:
    start: datetime  # the hour's start, in the org's time zone
    total: int


@dataclass(frozen=True)
class ClickTimeline:
    sent_at: datetime
    hours: list[HourClicks]  # the first TIMELINE_HOURS hours after sending, hour by hour (zeros included)
    later_days: list[tuple[date, int]]  # after that, per day with clicks
    busiest_hour: int
    first_click_minutes: int | None  # from sending to the first click
    half_within_hours: int | None  # half of all clicks came within this many hours of sending
    total: int


@dataclass(frozen=True)
class DeviceClicks:
    name: str
    total: int  # clicks
    recipients: int  # distinct recipients who clicked on such a device


def click_timeline(*, campaign) -> ClickTimeline | None:
    """The campaign's clicks over the hours after its first message was sent; None before anything was sent."""
    zone = ZoneInfo(campaign.org.timezone)
    # campaign.messages: delivery's messages through the relation (Message.objects, tests from the preview left out)
    sent_at = campaign.messages.aggregate(first=Min("sent_at"))["first"] or campaign.launched_at
    if sent_at is None:
        return None
    per_hour: dict[datetime, int] = {}
    first = None
    for hour, total, first_in_hour in (
        HourlyClicks.objects.filter(campaign=campaign)
        .values_list("hour")
        .annotate(total=Sum("clicks"), first=Min("first_click_at"))
        .order_by()
    ):
        per_hour[hour.astimezone(zone)] = total
        first = first_in_hour if first is None else min(first, first_in_hour)
    start = sent_at.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    hours = [
        HourClicks(hour, per_hour.get(hour, 0))
        for hour in (_hour_after(start, offset, zone) for offset in range(TIMELINE_HOURS))
    ]
    end = _hour_after(start, TIMELINE_HOURS, zone)
    later: dict[date, int] = {}
    for hour, total in sorted(per_hour.items()):
        if hour >= end:
            later[hour.astimezone(zone).date()] = later.get(hour.astimezone(zone).date(), 0) + total
    total = sum(per_hour.values())
    return ClickTimeline(
        sent_at=sent_at,
        hours=hours,
        later_days=sorted(later.items()),
        busiest_hour=max((hour.total for hour in hours), default=0),
        first_click_minutes=max(0, int((first - sent_at).total_seconds() // 60)) if first else None,
        half_within_hours=_half_within(per_hour, start, total),
        total=total,
    )


def _hour_after(start: datetime, offset: int, zone: ZoneInfo) -> datetime:
    # Hours are added in UTC so a daylight-saving change in the org's zone neither skips nor repeats one.
    return (start.astimezone(ZoneInfo("UTC")) + timedelta(hours=offset)).astimezone(zone)


def _half_within(per_hour: dict[datetime, int], start: datetime, total: int) -> int | None:
    if not total:
        return None
    running = 0
    for hour, count in sorted(per_hour.items()):
        running += count
        if 2 * running >= total:
            return max(1, int((hour - start).total_seconds() // 3600) + 1)
    return None


def click_devices(*, campaign_id: int) -> list[DeviceClicks]:
    """Clicks and distinct recipients per kind of device, busiest first (kinds without clicks left out)."""
    rows = [
        DeviceClicks(DEVICE_NAMES[device], total, recipients)
        for device, total, recipients in HourlyClicks.objects.filter(campaign_id=campaign_id)
        .values_list("device")
        .annotate(total=Sum("clicks"), recipients=Sum("new_recipients"))
        .order_by()
        if total
    ]
    return sorted(rows, key=lambda row: (-row.total, row.name))
