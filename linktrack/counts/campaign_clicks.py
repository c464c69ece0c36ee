"""When and on what a campaign's recipients clicked: the hours after sending and the kinds of device.

People only (bots and link previews are left out, as everywhere). A fixed number of queries whatever the number of
clicks: clicks are grouped in SQL (per hour, per user agent) before anything reaches Python.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Min
from django.db.models.functions import TruncHour

from linktrack.counts.devices import DEVICE_NAMES, device_of
from linktrack.models import Click

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
    clicks = Click.objects.filter(campaign=campaign, is_bot=False)
    per_hour = dict(
        clicks.annotate(hour=TruncHour("clicked_at", tzinfo=zone))
        .values_list("hour")
        .annotate(total=Count("pk"))
        .order_by()
    )
    first = clicks.aggregate(first=Min("clicked_at"))["first"]
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
    clicks = Click.objects.filter(campaign_id=campaign_id, is_bot=False)
    totals: dict[str, int] = {}
    for agent, count in clicks.values_list("user_agent").annotate(count=Count("pk")).order_by():
        totals[device_of(agent)] = totals.get(device_of(agent), 0) + count
    # One row per (agent, recipient) pair, so a recipient is counted once per kind of device, exactly.
    recipients: dict[str, set[int]] = {}
    for agent, message_id in clicks.filter(message__isnull=False).values_list("user_agent", "message_id").distinct():
        recipients.setdefault(device_of(agent), set()).add(message_id)
    rows = [
        DeviceClicks(DEVICE_NAMES[device], total, len(recipients.get(device, ()))) for device, total in totals.items()
    ]
    return sorted(rows, key=lambda row: (-row.total, row.name))
