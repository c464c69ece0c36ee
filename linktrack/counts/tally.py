"""The arithmetic of the click counters: what a set of newly stored clicks adds to them, given what the counters
already know of the same clickers. Pure Python; linktrack.counts.counters reads the known days and stores the rows.

A clicker is a recipient (their message) or, for a hit without one, a visitor of one day (hashed IP and user agent).
Unique clickers over days D1..D2 are counted from rows (day, previous day): each clicker has one row per day they
clicked, naming the day they clicked before; their first day in the period is the one row whose previous day is
before D1 (or none). A click on a day between two days already known moves the later day's row (a change of -1 and
+1), so clicks stored late, or out of order, count exactly as if they had come in order.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from linktrack.counts.devices import device_of


@dataclass(frozen=True)
class CountedClick:
    """A stored human click with what the counters are keyed by."""

    org_id: int
    campaign_id: int
    channel: str
    short_link_id: int
    message_id: int | None
    clicked_at: datetime
    ip_hash: str
    user_agent: str
    zone: ZoneInfo  # the org's clock

    @property
    def clicker(self) -> str:
        if self.message_id:
            return f"m{self.message_id}"
        visitor = hashlib.sha256(f"{self.ip_hash}|{self.user_agent}".encode()).hexdigest()[:32]
        return f"v{visitor}"

    @property
    def local(self) -> datetime:
        return self.clicked_at.astimezone(self.zone)


@dataclass
class HourTally:
    clicks: int = 0
    new_recipients: int = 0
    first_click_at: datetime | None = None


@dataclass
class Tally:
    """The counters' changes for a batch of clicks. Start it with what is known of the batch's clickers (their days
    per link and the devices they clicked on), add the clicks, then store `daily`, `unique`, `hourly` and the new
    days and devices."""

    link_days: dict[tuple[str, int], set[date]] = field(default_factory=dict)  # (clicker, link) -> days
    campaign_days: dict[tuple[str, int], set[date]] = field(default_factory=dict)  # (clicker, campaign) -> days
    devices: set[tuple[str, str]] = field(default_factory=set)  # (clicker, device)
    # (org, campaign, channel, link) -> day -> clicks
    daily: Counter = field(default_factory=Counter)
    # (org, campaign, channel, link or None, day, previous day or None) -> change in clickers
    unique: Counter = field(default_factory=Counter)
    # (campaign, hour, device) -> HourTally
    hourly: dict[tuple[int, datetime, str], HourTally] = field(default_factory=dict)
    new_days: list[tuple[int, str, int | None, int, date]] = field(default_factory=list)
    new_devices: list[tuple[int, str, str]] = field(default_factory=list)

    def know_day(self, *, clicker: str, campaign_id: int, short_link_id: int, day: date) -> None:
        self.link_days.setdefault((clicker, short_link_id), set()).add(day)
        self.campaign_days.setdefault((clicker, campaign_id), set()).add(day)

    def know_device(self, *, clicker: str, device: str) -> None:
        self.devices.add((clicker, device))

    def add(self, click: CountedClick) -> None:
        local = click.local
        day = local.date()
        clicker = click.clicker
        recipient = click.message_id is not None and click.message_id > 0
        scope = (click.org_id, click.campaign_id, click.channel)
        self.daily[(*scope, click.short_link_id, day)] += 1

        link_days = self.link_days.setdefault((clicker, click.short_link_id), set())
        if day not in link_days:
            self.new_days.append((click.campaign_id, clicker, click.message_id, click.short_link_id, day))
            for changed_day, previous, change in _day_changes(link_days, day, recipient):
                self.unique[(*scope, click.short_link_id, changed_day, previous)] += change
        campaign_days = self.campaign_days.setdefault((clicker, click.campaign_id), set())
        for changed_day, previous, change in _day_changes(campaign_days, day, recipient):
            self.unique[(*scope, None, changed_day, previous)] += change

        device = device_of(click.user_agent)
        hour = self.hourly.setdefault(
            (click.campaign_id, local.replace(minute=0, second=0, microsecond=0), device), HourTally()
        )
        hour.clicks += 1
        if hour.first_click_at is None or click.clicked_at < hour.first_click_at:
            hour.first_click_at = click.clicked_at
        if recipient and (clicker, device) not in self.devices:
            self.devices.add((clicker, device))
            self.new_devices.append((click.campaign_id, clicker, device))
            hour.new_recipients += 1


def _day_changes(days: set[date], day: date, recipient: bool) -> list[tuple[date, date | None, int]]:
    """Add `day` to a clicker's `days`; the (day, previous day, change) rows that makes. A visitor is a new clicker
    every day, so their rows have no previous day."""
    if day in days:
        return []
    if not recipient:
        days.add(day)
        return [(day, None, 1)]
    previous = max((known for known in days if known < day), default=None)
    following = min((known for known in days if known > day), default=None)
    days.add(day)
    changes = [(day, previous, 1)]
    if following is not None:
        changes += [(following, previous, -1), (following, day, 1)]
    return changes
