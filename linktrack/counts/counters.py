"""Keeping the click counters: adding a batch of stored clicks to them, merging their change rows, and building them
again from the stored clicks (for data from before the counters, and to repair).

The flush calls counters_add inside the transaction that stores the batch, with only the clicks that batch really
inserted (an event id stored before is not returned by the insert), so a batch stored twice counts once. Two flushes
never wait on a hot link: each adds its own change rows. On PostgreSQL a flush takes a shared lock per campaign (a
rebuild takes it exclusively) and an exclusive lock per clicker, so two flushes with clicks of the same person
never compute the same person's days from the same stale state.
"""

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Max

from campaigns.models import Campaign
from linktrack.common.change_rows import MIN, SUM, change_rows_merge
from linktrack.common.rows import rows_insert
from linktrack.counts.tally import CountedClick, Tally
from linktrack.models import Click, ClickerDay, ClickerDevice, DailyClicks, HourlyClicks, UniqueClickers

# Advisory lock namespaces (PostgreSQL): a campaign's counters, a clicker's days.
_CAMPAIGN_LOCK, _CLICKER_LOCK = 7301, 7302


def counted_of(clicks: Iterable[Click]) -> list[CountedClick]:
    """Stored clicks as the counters count them: the human ones, with their org and its clock. One query."""
    humans = [click for click in clicks if not click.is_bot]
    orgs = {
        pk: (org_id, ZoneInfo(zone))
        for pk, org_id, zone in Campaign.objects.filter(pk__in={click.campaign_id for click in humans}).values_list(
            "pk", "org_id", "org__timezone"
        )
    }
    return [
        CountedClick(
            org_id=orgs[click.campaign_id][0],
            campaign_id=click.campaign_id,
            channel=click.channel,
            short_link_id=click.short_link_id,
            message_id=click.message_id,
            clicked_at=click.clicked_at,
            ip_hash=click.ip_hash,
            user_agent=click.user_agent,
            zone=orgs[click.campaign_id][1],
        )
        for click in humans
    ]


def counters_add(clicks: list[CountedClick]) -> None:
    """Add newly stored human clicks to the counters. Call inside the transaction that stored them."""
    if not clicks:
        return
    clickers = {click.clicker for click in clicks}
    _lock(campaign_ids={click.campaign_id for click in clicks}, clickers=clickers, exclusive=False)
    tally = Tally()
    for clicker, campaign_id, short_link_id, day in ClickerDay.objects.filter(clicker__in=clickers).values_list(
        "clicker", "campaign_id", "short_link_id", "day"
    ):
        tally.know_day(clicker=clicker, campaign_id=campaign_id, short_link_id=short_link_id, day=day)
    recipients = [clicker for clicker in clickers if clicker.startswith("m")]
    for clicker, device in ClickerDevice.objects.filter(clicker__in=recipients).values_list("clicker", "device"):
        tally.know_device(clicker=clicker, device=device)
    for click in sorted(clicks, key=lambda click: click.clicked_at):
        tally.add(click)
    _save(tally)


def _lock(*, campaign_ids: set[int], clickers: set[str], exclusive: bool) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite lets one writer in at a time
    campaign_lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {campaign_lock}(%s, id) FROM unnest(%s::int[]) AS id ORDER BY id",
            [_CAMPAIGN_LOCK, sorted(campaign_ids)],
        )
        if clickers:
            # One order for everyone, so two flushes never wait for each other in a circle.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, key) FROM "
                "(SELECT DISTINCT hashtext(clicker) AS key FROM unnest(%s::text[]) AS clicker) AS keys ORDER BY key",
                [_CLICKER_LOCK, sorted(clickers)],
            )


def _save(tally: Tally) -> None:
    rows_insert(
        DailyClicks,
        ("org_id", "campaign_id", "channel", "short_link_id", "day", "total"),
        ((*key, total) for key, total in tally.daily.items()),
    )
    rows_insert(
        UniqueClickers,
        ("org_id", "campaign_id", "channel", "short_link_id", "day", "previous_day", "clickers"),
        ((*key, change) for key, change in tally.unique.items() if change),
    )
    rows_insert(
        HourlyClicks,
        ("campaign_id", "hour", "device", "clicks", "new_recipients", "first_click_at"),
        ((*key, hour.clicks, hour.new_recipients, hour.first_click_at) for key, hour in tally.hourly.items()),
    )
    rows_insert(ClickerDay, ("campaign_id", "clicker", "message_id", "short_link_id", "day"), tally.new_days)
    rows_insert(ClickerDevice, ("campaign_id", "clicker", "device"), tally.new_devices)


# Each counter table: the fields that key a row, and how its figures merge.
_MERGES = (
    (DailyClicks, ("org_id", "campaign_id", "channel", "short_link_id", "day"), {"total": SUM}),
    (UniqueClickers, ("org_id", "campaign_id", "channel", "short_link_id", "day", "previous_day"), {"clickers": SUM}),
    (HourlyClicks, ("campaign_id", "hour", "device"), {"clicks": SUM, "new_recipients": SUM, "first_click_at": MIN}),
)


def counters_merge(*, campaign_id: int) -> int:
    """Merge a campaign's change rows into one row per key; returns the rows removed (see change_rows_merge)."""
    return sum(
        change_rows_merge(model.objects.filter(campaign_id=campaign_id), keys=keys, figures=figures)
        for model, keys, figures in _MERGES
    )


def campaigns_to_merge(*, after_id: int) -> tuple[list[int], int]:
    """Campaigns with change rows added after `after_id` (a DailyClicks id), and the id to start from next time."""
    newer = DailyClicks.objects.filter(pk__gt=after_id)
    highest = newer.aggregate(highest=Max("pk"))["highest"] or after_id
    many = newer.filter(pk__lte=highest).values("campaign_id").annotate(rows=Count("pk")).order_by()
    return [row["campaign_id"] for row in many], highest


def counters_rebuild(*, campaign_id: int, clicks: Iterable[CountedClick]) -> None:
    """Count a campaign's clicks again from scratch, replacing its counters (one transaction)."""
    with transaction.atomic():
        _lock(campaign_ids={campaign_id}, clickers=set(), exclusive=True)
        counters_delete(campaign_id=campaign_id)
        tally = Tally()
        for click in clicks:
            tally.add(click)
        _save(tally)


def counters_delete(*, campaign_id: int) -> None:
    for model in (DailyClicks, UniqueClickers, HourlyClicks, ClickerDay, ClickerDevice):
        model.objects.filter(campaign_id=campaign_id).delete()
