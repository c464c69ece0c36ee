"""Click counts: bots and link previews are stored but never counted.

Total Click Count = human hits. Unique Click Count = distinct recipients (messages) with a human hit, plus, for
hits without a recipient, distinct visitors (hashed IP + user agent) per day. Days are whole days on the org's
clock. Every figure is read from the click counters (linktrack.models.DailyClicks and UniqueClickers, kept by the
click flush), never from the clicks themselves: one or two queries whose cost grows with days and campaigns, not
with clicks.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet, Sum

from campaigns.base.runs import campaign_owner
from linktrack.models import DailyClicks, ShortLink, UniqueClickers


@dataclass(frozen=True)
class ClickCounts:
    total: int  # human hits
    unique: int  # distinct recipients with a human hit (visitors per day for hits without a recipient)


NO_CLICKS = ClickCounts(total=0, unique=0)


@dataclass(frozen=True)
class LinkClickCounts:
    short_link_id: int
    destination: str
    total: int
    unique: int


def _in_period(rows: QuerySet, first_day: date | None, last_day: date | None) -> QuerySet:
    if first_day is not None:
        rows = rows.filter(day__gte=first_day)
    if last_day is not None:
        rows = rows.filter(day__lte=last_day)
    return rows


def _totals(first_day: date | None = None, last_day: date | None = None, **filters) -> QuerySet:
    return _in_period(DailyClicks.objects.filter(**filters), first_day, last_day)


def _clickers(
    first_day: date | None = None, last_day: date | None = None, *, per_link: bool = False, **filters
) -> QuerySet:
    """The rows whose clickers add up to the distinct clickers of the period: each clicker's first day in it."""
    rows = _in_period(UniqueClickers.objects.filter(short_link__isnull=not per_link, **filters), first_day, last_day)
    first_in_period = Q(previous_day__isnull=True)
    if first_day is not None:
        first_in_period |= Q(previous_day__lt=first_day)
    return rows.filter(first_in_period)


def _by(rows: QuerySet, key: str, figure: str) -> dict:
    return dict(rows.values_list(key).annotate(figure=Sum(figure)).order_by())


def _merged(totals: dict, uniques: dict) -> dict:
    return {key: ClickCounts(total=totals.get(key, 0), unique=uniques.get(key, 0)) for key in totals if totals[key]}


def click_counts(*, campaign_id: int) -> ClickCounts:
    """A campaign's clicks of all time. Two queries."""
    total = _totals(campaign_id=campaign_id).aggregate(figure=Sum("total"))["figure"] or 0
    unique = _clickers(campaign_id=campaign_id).aggregate(figure=Sum("clickers"))["figure"] or 0
    return ClickCounts(total=total, unique=unique)


def click_counts_by_link(
    *, campaign_id: int, first_day: date | None = None, last_day: date | None = None
) -> list[LinkClickCounts]:
    """Every link of a campaign, clicked or not, most clicked first. Three queries."""
    totals = _by(_totals(first_day, last_day, campaign_id=campaign_id), "short_link_id", "total")
    uniques = _by(_clickers(first_day, last_day, per_link=True, campaign_id=campaign_id), "short_link_id", "clickers")
    links = [
        LinkClickCounts(short_link_id=pk, destination=destination, total=totals.get(pk, 0), unique=uniques.get(pk, 0))
        for pk, destination in ShortLink.objects.filter(campaign_id=campaign_id).values_list("pk", "destination")
    ]
    return sorted(links, key=lambda link: (-link.total, link.short_link_id))


@dataclass(frozen=True)
class DayClickCounts:
    day: date
    total: int
    unique: int


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


def click_counts_by_day(*, campaign_id: int, first_day: date | None = None, last_day: date | None = None):
    """A campaign's clicks per day of the org's clock, oldest first; days without a click are absent. Two queries."""
    totals = _by(_totals(first_day, last_day, campaign_id=campaign_id), "day", "total")
    # Every clicker of a day has one row on that day: the day's unique clickers are all its rows.
    uniques = _by(
        _in_period(
            UniqueClickers.objects.filter(campaign_id=campaign_id, short_link__isnull=True), first_day, last_day
        ),
        "day",
        "clickers",
    )
    return [
        DayClickCounts(day=day, total=counts.total, unique=counts.unique)
        for day, counts in sorted(_merged(totals, uniques).items())
    ]


def click_counts_by_day_and_channel(
    *, org_id: int, channels: Sequence[str], first_day: date | None = None, last_day: date | None = None
) -> list[DayChannelClickCounts]:
    """An org's clicks on `channels` per day of its clock, oldest first; days without a click are absent.

    Two queries (grouped by day and channel), whatever the number of days or clicks.
    """
    totals = _per_day_channel(_totals(first_day, last_day, org_id=org_id, channel__in=channels), "total")
    uniques = _per_day_channel(
        _in_period(
            UniqueClickers.objects.filter(org_id=org_id, channel__in=channels, short_link__isnull=True),
            first_day,
            last_day,
        ),
        "clickers",
    )
    counts = _merged(totals, uniques)
    days = sorted({day for day, _ in counts})
    return [
        DayChannelClickCounts(day=day, per_channel=tuple(counts.get((day, channel), NO_CLICKS) for channel in channels))
        for day in days
    ]


def _per_day_channel(rows: QuerySet, figure: str) -> dict[tuple[date, str], int]:
    return {
        (day, channel): value
        for day, channel, value in rows.values_list("day", "channel").annotate(value=Sum(figure)).order_by()
    }


def click_counts_by_channel(
    *, org_id: int, first_day: date | None = None, last_day: date | None = None, channel: str = ""
) -> dict[str, ClickCounts]:
    """An org's clicks per channel (sms, email), or of one `channel`; a channel with no click is absent."""
    filters = {"org_id": org_id, **({"channel": channel} if channel else {})}
    return _merged(
        _by(_totals(first_day, last_day, **filters), "channel", "total"),
        _by(_clickers(first_day, last_day, **filters), "channel", "clickers"),
    )


def click_counts_by_campaign(
    *, org_id: int, first_day: date | None = None, last_day: date | None = None, channel: str = ""
) -> dict[int, ClickCounts]:
    """An org's clicks per campaign id (of one `channel`, if given); a campaign with no click is absent."""
    filters = {"org_id": org_id, **({"channel": channel} if channel else {})}
    return _merged(
        _by(_totals(first_day, last_day, **filters), "campaign_id", "total"),
        _by(_clickers(first_day, last_day, **filters), "campaign_id", "clickers"),
    )


def click_counts_for_campaigns(*, campaign_ids: list[int]) -> dict[int, ClickCounts]:
    """Clicks of each campaign of all time; a recurring campaign's runs count for it. A campaign with no click is
    absent. Two queries."""
    of_them = Q(campaign_id__in=campaign_ids) | Q(campaign__parent_id__in=campaign_ids)
    owner = campaign_owner(campaign_ids)
    totals = DailyClicks.objects.filter(of_them).values(owner=owner).annotate(figure=Sum("total")).order_by()
    uniques = _clickers().filter(of_them).values(owner=owner).annotate(figure=Sum("clickers")).order_by()
    return _merged({row["owner"]: row["figure"] for row in totals}, {row["owner"]: row["figure"] for row in uniques})
