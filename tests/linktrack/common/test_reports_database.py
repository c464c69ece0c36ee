"""The reports router: reads inside `reading_reports()` go to the reports database, writes and reads inside a
transaction on the primary never do, and nothing changes without REPORTS_DATABASE_URL. How old the figures are, in
words. (tests/insights/test_reports_replica.py runs all of it against a real streaming replica.)"""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign
from linktrack.common import reports_database
from linktrack.common.reports_database import REPORTS, Freshness, ReportsRouter, reading_reports, rows_from_reports
from tests.workers import ROOT

IST = ZoneInfo("Asia/Kolkata")
router = ReportsRouter()


@pytest.fixture
def replica_reachable(monkeypatch):
    """As if a reports database were configured and answered, caught up."""
    monkeypatch.setattr(reports_database, "reports_database_configured", lambda: True)
    monkeypatch.setattr(reports_database, "_reports_source", lambda: (REPORTS, Freshness()))


def test_reads_inside_the_block_go_to_the_reports_database_and_writes_never_do(replica_reachable):
    assert router.db_for_read(Campaign) == "default"
    with reading_reports():
        assert router.db_for_read(Campaign) == REPORTS
        assert router.db_for_write(Campaign) == "default"
    assert router.db_for_read(Campaign) == "default"


def test_a_read_inside_a_transaction_on_the_primary_stays_on_the_primary(replica_reachable, transactional_db):
    with reading_reports():
        with transaction.atomic():
            assert router.db_for_read(Campaign) == "default"
        assert router.db_for_read(Campaign) == REPORTS


def test_the_replica_gets_no_migration_and_objects_of_both_databases_relate():
    assert router.allow_migrate("default", "campaigns") is True
    assert router.allow_migrate(REPORTS, "campaigns") is False
    assert router.allow_relation(Campaign(), Campaign()) is True


def test_a_streamed_download_reads_the_reports_database_only_while_it_fetches_a_row(replica_reachable):
    seen_while_fetching = []

    def rows():
        for number in range(3):
            seen_while_fetching.append(router.db_for_read(Campaign))
            yield [number]

    seen_between_rows = [router.db_for_read(Campaign) for _row in rows_from_reports(rows())]

    assert seen_while_fetching == [REPORTS] * 3
    assert seen_between_rows == ["default"] * 3


def test_without_a_reports_database_the_block_asks_nothing_and_reads_the_primary(db):
    with CaptureQueriesContext(transaction.get_connection()) as queries, reading_reports() as freshness:
        assert router.db_for_read(Campaign) == "default"
    assert len(queries) == 0
    assert freshness.words() == ""


def _settings_with(environment: dict[str, str]) -> dict:
    """The settings a process started with `environment` (on top of this one's) reads."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'databases': settings.DATABASES, 'routers': settings.DATABASE_ROUTERS}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "linktrack.settings", "PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_reports_database_url_adds_the_replica_as_a_mirror_for_tests_and_the_router():
    configured = _settings_with(
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/linktrack",
            "REPORTS_DATABASE_URL": "postgres://reader@replica.internal:5432/linktrack",
        }
    )
    reports = configured["databases"][REPORTS]
    assert (reports["HOST"], reports["USER"], reports["NAME"]) == ("replica.internal", "reader", "linktrack")
    assert reports["TEST"] == {"MIRROR": "default"}
    assert reports["OPTIONS"]["connect_timeout"] == 3
    assert configured["routers"] == ["linktrack.common.reports_database.ReportsRouter"]

    plain = _settings_with({})
    assert list(plain["databases"]) == ["default"] and plain["routers"] == []


# --- How old the figures are, in words ----------------------------------------------------------------------------


def _behind(seconds: float, now: datetime) -> Freshness:
    return Freshness(behind_seconds=seconds, as_of=now - timedelta(seconds=seconds))


def test_figures_a_few_seconds_behind_say_nothing(settings):
    settings.REPORTS_LAG_NOTICE_SECONDS = 5
    assert _behind(4, timezone.now()).words(IST) == ""
    assert Freshness().words(IST) == ""


def test_figures_further_behind_say_since_when_and_how_far(settings, monkeypatch):
    settings.REPORTS_LAG_NOTICE_SECONDS = 5
    now = datetime(2026, 12, 7, 8, 32, 30, tzinfo=UTC)  # 14:02:30 in India
    monkeypatch.setattr(timezone, "now", lambda: now)

    assert _behind(45, now).words(IST) == (
        "Figures as of 14:01 IST, 45 s behind: the latest sends and clicks are still on their way."
    )
    assert "as of 13:32 IST, 30 min behind" in _behind(1800, now).words(IST)
    assert "as of 6 Dec 2026, 14:02 IST, 24 h behind" in _behind(86400, now).words(IST)


def test_a_replica_that_has_applied_nothing_says_its_figures_may_be_behind(settings):
    assert Freshness(behind_seconds=float("inf")).words(IST) == (
        "These figures may be behind: the reports database has applied no change since it started."
    )
