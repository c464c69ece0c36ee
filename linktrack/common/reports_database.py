"""Reports read a replica: inside `reading_reports()` the ORM reads from the "reports" database (a PostgreSQL
streaming replica, REPORTS_DATABASE_URL), so heavy report queries never slow the sending down.

- Only reads inside the block go there: writes always go to the primary ("default"), and so does a read inside a
  transaction on the primary (it must see what the transaction wrote). Outside the block every read is the
  primary's, whatever database an object came from.
- Views open the block for the figures only, after they have checked on the primary who may see what: a member
  removed a moment ago, or a revoked API key, is refused at once, however far behind the replica is.
- Without REPORTS_DATABASE_URL there is no "reports" database, no router, and the block changes nothing.
- Entering the block asks the replica how far behind it is (`Freshness`), so a page can say how old its figures
  are; a replica that cannot be reached is left alone for `REPLICA_RETRY_SECONDS` and the figures come from the
  primary: correct figures, a little more load where the sending happens, rather than a report page that fails.
"""

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

logger = logging.getLogger(__name__)

REPORTS = "reports"
# After the replica could not be reached, report pages read the primary this long before trying it again, so an
# unreachable host costs one page its connect timeout, not every page.
REPLICA_RETRY_SECONDS = 10.0

# The database reads go to inside a `reading_reports()` block; None outside one.
_reads_from: ContextVar[str | None] = ContextVar("reads_from", default=None)
_replica_down_until = 0.0

# On the replica: is it one (in recovery); has it replayed all it received while still receiving (a caught-up,
# idle replica: its last replayed change may be hours old because nothing changed since); when was the last change
# it replayed committed on the primary; and its clock. Without a WAL receiver (cut off from the primary) it cannot
# know whether it is behind, so the time of its last replayed change is all it can vouch for.
_FRESHNESS_SQL = """
    SELECT pg_is_in_recovery(),
           EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
               AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),
           pg_last_xact_replay_timestamp(),
           now()
"""


class ReportsRouter:
    """Reads inside `reading_reports()` go to the reports database; everything else to the primary."""

    def db_for_read(self, model, **hints) -> str:
        reads_from = _reads_from.get()
        if reads_from is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return reads_from

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the primary's rows: an object read from either is the same object

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica gets its tables from the primary, never from a migration


@dataclass(frozen=True)
class Freshness:
    """How old the figures read in a `reading_reports()` block are: `as_of` is when the last change the replica
    applied was committed, and `behind_seconds` how long ago that was, when the replica is behind (0 otherwise)."""

    behind_seconds: float = 0.0
    as_of: datetime | None = None

    @property
    def lagging(self) -> bool:
        """Far enough behind that a page should say so (REPORTS_LAG_NOTICE_SECONDS)."""
        return self.behind_seconds > settings.REPORTS_LAG_NOTICE_SECONDS

    def words(self, zone: tzinfo | None = None) -> str:
        """E.g. "Figures as of 14:02 IST, 45 s behind: the latest sends and clicks are still on their way.";
        empty when the figures are current."""
        if not self.lagging:
            return ""
        if self.as_of is None:
            return "These figures may be behind: the reports database has applied no change since it started."
        as_of = timezone.localtime(self.as_of, zone)
        now = timezone.localtime(timezone.now(), zone)
        when = as_of.strftime("%H:%M %Z") if as_of.date() == now.date() else as_of.strftime("%-d %b %Y, %H:%M %Z")
        return f"Figures as of {when}, {_duration(self.behind_seconds)} behind: the latest sends and clicks are still on their way."


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{round(seconds)} s"
    if seconds < 2 * 3600:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"


def reports_database_configured() -> bool:
    return REPORTS in settings.DATABASES


def _replica_freshness() -> Freshness:
    replica = connections[REPORTS]
    if replica.vendor != "postgresql":
        return Freshness()
    with replica.cursor() as cursor:
        cursor.execute(_FRESHNESS_SQL)
        in_recovery, caught_up, replayed_at, now = cursor.fetchone()
    if not in_recovery or caught_up:
        return Freshness()
    if replayed_at is None:
        return Freshness(behind_seconds=float("inf"))
    return Freshness(behind_seconds=max((now - replayed_at).total_seconds(), 0.0), as_of=replayed_at)


def _reports_source() -> tuple[str, Freshness]:
    """The database the figures are read from, and how old they are there."""
    global _replica_down_until
    if time.monotonic() < _replica_down_until:
        return DEFAULT_DB_ALIAS, Freshness()
    try:
        return REPORTS, _replica_freshness()
    except DatabaseError as error:
        _replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        connections[REPORTS].close()
        logger.warning(
            "The reports database cannot be reached (%s): reports read the primary for the next %d s.",
            str(error).strip(),
            REPLICA_RETRY_SECONDS,
        )
        return DEFAULT_DB_ALIAS, Freshness()


@contextmanager
def _reading_from(alias: str) -> Iterator[None]:
    token = _reads_from.set(alias)
    try:
        yield
    finally:
        _reads_from.reset(token)


@contextmanager
def reading_reports() -> Iterator[Freshness]:
    """Reads inside the block come from the reports database when there is one (see the module's docstring);
    yields how old they are there."""
    if not reports_database_configured():
        yield Freshness()
        return
    alias, freshness = _reports_source()
    with _reading_from(alias):
        yield freshness


def rows_from_reports(rows: Iterable) -> Iterator:
    """`rows` (a generator that reads as it goes, for a streamed download) read from the reports database.
    The reads are routed only while a row is being fetched, never across a `yield`, so nothing else the thread
    does between rows reads the replica."""
    if not reports_database_configured():
        yield from rows
        return
    alias, _freshness = _reports_source()
    iterator = iter(rows)
    while True:
        with _reading_from(alias):
            try:
                row = next(iterator)
            except StopIteration:
                return
        yield row
