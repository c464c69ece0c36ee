"""The click table's months. On PostgreSQL the table is partitioned by month of `clicked_at` (UTC months; migration
0007): this keeps a partition ready for this month and the next CLICK_PARTITIONS_AHEAD, gives a month found in the
DEFAULT partition (the safety net for a click whose month had none) its own, and, with CLICK_RETENTION_MONTHS,
drops whole months of clicks once they are older than that (DETACH + DROP; on SQLite, which keeps a plain table, a
DELETE). The click counters are never touched, so every report keeps its figures; what was dropped is recorded as a
ClickRetention, which the counters' check and rebuild read (linktrack.counts.rebuild).

Beat runs click_partitions_keep every hour; `manage.py click_partitions` runs it by hand and lists the months.
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from linktrack.models import Click, ClickRetention

logger = logging.getLogger(__name__)

TABLE = "linktrack_click"
DEFAULT = "linktrack_click_default"
MONTH_NAME = re.compile(rf"{TABLE}_p(\d{{4}})_(\d{{2}})")
# DDL on the click table waits at most this long for its lock, rather than holding up every click behind it.
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class Partition:
    name: str
    month: date | None  # None: the DEFAULT partition
    rows: int  # PostgreSQL's estimate (exact for a table analysed since it last changed)
    size_bytes: int  # with its indexes


@dataclass
class Kept:
    """What one run did."""

    created: list[str]
    dropped: str  # in words; empty when nothing was
    in_default: int  # clicks left in the DEFAULT partition


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def months_after(month: date, count: int) -> date:
    """The first day of the month `count` months after `month` (before it when negative)."""
    year, index = divmod(month.year * 12 + month.month - 1 + count, 12)
    return date(year, index + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00+00"


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def retention_start(*, now: datetime | None = None) -> datetime | None:
    """Where the clicks kept begin under CLICK_RETENTION_MONTHS: the start of the UTC month that many months before
    this one (so at least that many whole months are kept); None when everything is kept."""
    months = settings.CLICK_RETENTION_MONTHS
    if months is None:
        return None
    first = months_after(month_of(now or timezone.now()), -months)
    return datetime(first.year, first.month, 1, tzinfo=UTC)


def click_partitions_keep(*, now: datetime | None = None, first_month: date | None = None) -> Kept:
    """The hourly job: old months dropped under CLICK_RETENTION_MONTHS, partitions ahead (from `first_month` when
    given), months found in the DEFAULT partition moved to their own; warns when clicks stay in the DEFAULT partition.
    A step that cannot have its lock within LOCK_TIMEOUT is logged and left for the next run."""
    now = now or timezone.now()
    kept = Kept(created=[], dropped="", in_default=0)
    try:
        retention = click_retention_apply(now=now)
        kept.dropped = retention.dropped if retention else ""
    except OperationalError:
        logger.warning("old months of clicks not dropped this time (the click table was busy)", exc_info=True)
    if not partitioned():
        return kept
    this_month = month_of(now)
    months = set()
    month = min(first_month or this_month, this_month)
    while month <= months_after(this_month, settings.CLICK_PARTITIONS_AHEAD):
        months.add(month)
        month = months_after(month, 1)
    start = retention_start(now=now)
    months |= {month for month in _months_in_default() if start is None or month >= start.date()}
    for month in sorted(months):
        try:
            if _partition_create(month):
                kept.created.append(partition_name(month))
        except OperationalError:
            logger.warning("no partition made for %s this time (the click table was busy)", f"{month:%Y-%m}",
                           exc_info=True)  # fmt: skip
    kept.in_default = _clicks_in_default()
    if kept.in_default:
        logger.warning(
            "%s click(s) are in the click table's DEFAULT partition (their month has no partition of its own and "
            "could not be given one); they are stored and counted, but will not be dropped with their month",
            kept.in_default,
        )
    return kept


def _months_in_default() -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', clicked_at AT TIME ZONE 'UTC')::date FROM {DEFAULT} ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def _clicks_in_default() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
        return cursor.fetchone()[0]


def _partition_create(month: date) -> bool:
    """Give `month` its partition, unless it has one; returns whether it made one. Clicks of that month found in the
    DEFAULT partition are moved into it in the same transaction (PostgreSQL refuses a new partition whose rows sit
    in the DEFAULT one)."""
    name, start, end = partition_name(month), _bound(month), _bound(months_after(month, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(f"SELECT count(*) FROM {DEFAULT} WHERE clicked_at >= %s AND clicked_at < %s", [start, end])
        waiting = cursor.fetchone()[0]
        if not waiting:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} FOR VALUES FROM ('{start}') TO ('{end}')"
            )
            return True
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE clicked_at >= %s AND clicked_at < %s RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved",
            [start, end],
        )
        cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")
    logger.warning("%s click(s) of %s were in the DEFAULT partition: moved to their month's new partition %s",
                   waiting, f"{month:%Y-%m}", name)  # fmt: skip
    return True


def click_retention_apply(*, now: datetime | None = None) -> ClickRetention | None:
    """Drop the clicks older than CLICK_RETENTION_MONTHS allows, in whole months, and record it; None when nothing
    was old enough (or everything is kept). The click counters keep their figures."""
    start = retention_start(now=now)
    if start is None:
        return None
    with transaction.atomic():
        if partitioned():
            dropped = _old_partitions_drop(before=start.date())
        else:
            deleted, _ = Click.objects.filter(clicked_at__lt=start).delete()
            dropped = [f"{deleted} click(s) before {start:%Y-%m-%d}"] if deleted else []
        if not dropped:
            return None
        retention = ClickRetention.objects.create(kept_from=start, dropped=", ".join(dropped))
    logger.warning("clicks before %s dropped (CLICK_RETENTION_MONTHS): %s", f"{start:%Y-%m-%d}", retention.dropped)
    return retention


def _old_partitions_drop(*, before: date) -> list[str]:
    dropped = []
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        for partition in click_partitions():
            if partition.month is not None and partition.month < before:
                cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {partition.name}")
                cursor.execute(f"DROP TABLE {partition.name}")
                dropped.append(partition.name)
        cursor.execute(f"DELETE FROM {DEFAULT} WHERE clicked_at < %s", [_bound(before)])
        if cursor.rowcount:
            dropped.append(f"{cursor.rowcount} click(s) from {DEFAULT}")
    return dropped


def click_partitions() -> list[Partition]:
    """The click table's partitions, oldest month first, the DEFAULT one (and any not named by month) last; empty
    where the table is not partitioned."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname, greatest(child.reltuples, 0)::bigint, pg_total_relation_size(child.oid) "
            "FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE pg_inherits.inhparent = %s::regclass ORDER BY child.relname",
            [TABLE],
        )
        rows = cursor.fetchall()
    partitions = []
    for name, rows_estimate, size in rows:
        named = MONTH_NAME.fullmatch(name)
        month = date(int(named[1]), int(named[2]), 1) if named else None
        partitions.append(Partition(name=name, month=month, rows=rows_estimate, size_bytes=size))
    return sorted(partitions, key=lambda partition: (partition.month is None, partition.month or date.min))
