"""Click counts: bots and link previews are stored but never counted.

Total Click Count = human hits. Unique Click Count = distinct recipients (messages) with a human hit, plus, for
hits without a recipient, distinct visitors (hashed IP + user agent) per day. Each selector is one or two queries,
whatever the number of clicks.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from django.db.models import CharField, Count, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, TruncDate

from campaigns.base.runs import campaign_owner
from linktrack.models import Click, ShortLink


@dataclass(frozen=True)
class ClickCounts:
    total: int  # human hits
    unique: int  # distinct recipients with a human hit (visitors per day for hits without a recipient)


@dataclass(frozen=True)
class LinkClickCounts:
    short_link_id: int
    destination: str
    total: int
    unique: int


@dataclass(frozen=True)
class DayClickCounts:
    day: date
    total: int
    unique: int


def _counts(*, tz: tzinfo | None = None) -> dict:
    # The ip hash is fixed-length hex and the day a fixed-format date, so the joined key is unambiguous.
    visitor = Concat(
        "ip_hash",
        Value("|"),
        Cast(TruncDate("clicked_at", tzinfo=tz), CharField()),
        Value("|"),
        "user_agent",
        output_field=CharField(),
    )
    return {
        "total": Count("pk"),
        "recipients": Count("message_id", distinct=True),
        "visitors": Count(visitor, distinct=True, filter=Q(message__isnull=True)),
    }


def _human_clicks(
    *,
    campaign_id: int | None = None,
    org_id: int | None = None,
    since: datetime | None = None,
    until=None,
    channel: str = "",
) -> QuerySet:
    clicks = Click.objects.filter(is_bot=False)
    if campaign_id is not None:
        clicks = clicks.filter(campaign_id=campaign_id)
    if org_id is not None:
        clicks = clicks.filter(campaign__org_id=org_id)
    if channel:
        clicks = clicks.filter(channel=channel)
    if since is not None:
        clicks = clicks.filter(clicked_at__gte=since)
    if until is not None:
        clicks = clicks.filter(clicked_at__lt=until)
    return clicks


def _to_counts(row: dict) -> ClickCounts:
    return ClickCounts(total=row["total"], unique=row["recipients"] + row["visitors"])


def click_counts(*, campaign_id: int, tz: tzinfo | None = None) -> ClickCounts:
    return _to_counts(_human_clicks(campaign_id=campaign_id).aggregate(**_counts(tz=tz)))


def click_counts_by_link(*, campaign_id: int, tz: tzinfo | None = None) -> list[LinkClickCounts]:
    """Every link of a campaign, clicked or not, most clicked first. Two queries."""
    rows = {
        row["short_link_id"]: row
        for row in _human_clicks(campaign_id=campaign_id).values("short_link_id").annotate(**_counts(tz=tz)).order_by()
    }
    links = [
        LinkClickCounts(
            short_link_id=pk,
            destination=destination,
            total=rows[pk]["total"] if pk in rows else 0,
            unique=rows[pk]["recipients"] + rows[pk]["visitors"] if pk in rows else 0,
        )
        for pk, destination in ShortLink.objects.filter(campaign_id=campaign_id).values_list("pk", "destination")
    ]
    return sorted(links, key=lambda link: (-link.total, link.short_link_id))


def click_counts_by_day(
    *,
    campaign_id: int | None = None,
    org_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo | None = None,
) -> list[DayClickCounts]:
    """Clicks per calendar day (in `tz`, default the project's time zone), oldest first."""
    rows = (
        _human_clicks(campaign_id=campaign_id, org_id=org_id, since=since, until=until)
        .annotate(day=TruncDate("clicked_at", tzinfo=tz))
        .values("day")
        .annotate(**_counts(tz=tz))
        .order_by("day")
    )
    return [
        DayClickCounts(day=row["day"], total=row["total"], unique=row["recipients"] + row["visitors"]) for row in rows
    ]


@dataclass(frozen=True)
class DayChannelClickCounts:
    """One day's clicks per channel (in the order the channels were asked for) and the day's figures.

    The day's Unique Click Count adds up its channels': a unique click is the recipient of one campaign message (or,
    for a hit without a recipient, one visitor), so a person who clicked an SMS and an email that day counts once in
    each channel and twice in the day's figure, as the page's help text says.
    """

    day: date
    per_channel: tuple[ClickCounts, ...]

    @property
    def total(self) -> int:
        return sum(counts.total for counts in self.per_channel)

    @property
    def unique(self) -> int:
        return sum(counts.unique for counts in self.per_channel)


def click_counts_by_day_and_channel(
    *,
    org_id: int,
    channels: Sequence[str],
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo | None = None,
) -> list[DayChannelClickCounts]:
    """An org's clicks on `channels` per calendar day (in `tz`), oldest first; days without a click are absent.

    One query (grouped by day and channel), whatever the number of days or clicks.
    """
    rows = (
        _human_clicks(org_id=org_id, since=since, until=until)
        .filter(channel__in=channels)
        .annotate(day=TruncDate("clicked_at", tzinfo=tz))
        .values("day", "channel")
        .annotate(**_counts(tz=tz))
        .order_by("day", "channel")
    )
    days: dict[date, dict[str, ClickCounts]] = {}
    for row in rows:
        days.setdefault(row["day"], {})[row["channel"]] = _to_counts(row)
    nothing = ClickCounts(total=0, unique=0)
    return [
        DayChannelClickCounts(day=day, per_channel=tuple(counts.get(channel, nothing) for channel in channels))
        for day, counts in days.items()
    ]


def click_counts_by_channel(
    *,
    org_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo | None = None,
    channel: str = "",
) -> dict[str, ClickCounts]:
    """An org's clicks per channel (sms, email), or of one `channel`; a channel with no click is absent."""
    rows = (
        _human_clicks(org_id=org_id, since=since, until=until, channel=channel)
        .values("channel")
        .annotate(**_counts(tz=tz))
        .order_by("channel")
    )
    return {row["channel"]: _to_counts(row) for row in rows}


def click_counts_by_campaign(
    *,
    org_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo | None = None,
    channel: str = "",
) -> dict[int, ClickCounts]:
    """An org's clicks per campaign id (of one `channel`, if given); a campaign with no click is absent."""
    rows = (
        _human_clicks(org_id=org_id, since=since, until=until, channel=channel)
        .values("campaign_id")
        .annotate(**_counts(tz=tz))
        .order_by("campaign_id")
    )
    return {row["campaign_id"]: _to_counts(row) for row in rows}


def click_counts_for_campaigns(*, campaign_ids: list[int]) -> dict[int, ClickCounts]:
    """Clicks of each campaign; a recurring campaign's runs count for it. A campaign with no click is absent."""
    rows = (
        _human_clicks()
        .filter(Q(campaign_id__in=campaign_ids) | Q(campaign__parent_id__in=campaign_ids))
        .values(owner=campaign_owner(campaign_ids))
        .annotate(**_counts())
        .order_by()
    )
    return {row["owner"]: _to_counts(row) for row in rows}
