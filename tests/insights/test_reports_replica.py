"""Reports read a real streaming replica: a PostgreSQL primary and a replica made from it with pg_basebackup, both
started by this module on free ports (and stopped and removed at its end, also on failure), the project under
gunicorn with DATABASE_URL = the primary and REPORTS_DATABASE_URL = the replica, and the sending done by a process
of its own, as a worker does (tests/insights/replica_steps.py).

With the replica's replay paused, what is written on the primary (a campaign sent, clicks through the redirect) is
missing from the Insights page, its CSVs, the reporting API and the campaign list's figures, which say how far
behind they are; the campaign page and the sending read the primary. Replay resumed, the figures catch up. With the
replica gone, the reports read the primary."""

import csv
import glob
import http.cookiejar
import io
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

from tests.insights.api.helpers import PHONE
from tests.local_peers import free_port, running_web_server
from tests.services import missing

pytestmark = pytest.mark.postgres  # PostgreSQL of its own (its server programs), whatever DATABASE_URL is

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "linktrack"
# The app's pages say how far behind they are past this many seconds (REPORTS_LAG_NOTICE_SECONDS).
LAG_NOTICE_SECONDS = "1"


def _postgresql_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"), key=lambda path: int(path.split("/")[4]))
    if not found:
        missing("PostgreSQL's server programs (/usr/lib/postgresql/<version>/bin: initdb, pg_ctl, pg_basebackup)")
    return Path(found[-1]).parent


@dataclass
class Cluster:
    """A PostgreSQL cluster of this module's own in `folder`, on `port` at 127.0.0.1, user postgres, trust."""

    bin: Path
    folder: Path
    port: int
    run_as: list[str]

    def run(self, program: str, *arguments: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / program), *arguments], check=True, capture_output=True, text=True, timeout=60
        )

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.folder), "-l", f"{self.folder}.log", "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.folder / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.folder), "-m", "immediate", "-w", "stop")

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def query(self, sql: str, database: str = DATABASE):
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone() if cursor.description else None
        finally:
            connection.close()


@dataclass
class Clusters:
    primary: Cluster
    replica: Cluster

    def wait_until_replayed(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        (written,) = self.primary.query("SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + 60
        while not self.replica.query(f"SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn")[0]:
            assert time.monotonic() < deadline, "the replica never replayed the primary's changes"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def clusters():
    """A primary (wal_level=replica, replication allowed locally) and a streaming replica of it, made with
    pg_basebackup -R. PostgreSQL refuses to run as root, so as root they run as the postgres user."""
    binaries = _postgresql_binaries()
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            postgres_user = pwd.getpwnam("postgres")
        except KeyError:
            missing("the OS user postgres (PostgreSQL refuses to run as root)")
        run_as = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="test-replica-"))
    if run_as:
        os.chown(folder, postgres_user.pw_uid, postgres_user.pw_gid)
    primary = Cluster(binaries, folder / "primary", free_port(), run_as)
    replica = Cluster(binaries, folder / "replica", free_port(), run_as)
    try:
        primary.run("initdb", "-D", str(primary.folder), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(primary.folder / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {primary.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
            )
        with open(primary.folder / "pg_hba.conf", "a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        primary.start()
        primary.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D", str(replica.folder),
            "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        with open(replica.folder / "postgresql.conf", "a") as conf:
            conf.write(f"port = {replica.port}\n")
        replica.start()
        primary.query(f"CREATE DATABASE {DATABASE}", database="postgres")
        yield Clusters(primary, replica)
    finally:
        for cluster in (replica, primary):
            try:
                cluster.stop()
            except subprocess.CalledProcessError as error:
                print(f"stopping {cluster.folder} failed: {error.stderr}")
        shutil.rmtree(folder, ignore_errors=True)


def _environment(clusters: Clusters, **more: str) -> dict[str, str]:
    """The project's environment against the two clusters, with this test's secrets (short codes must decode)."""
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=clusters.primary.url(),
        REPORTS_DATABASE_URL=clusters.replica.url(),
        SECRET_KEY=settings.SECRET_KEY,
        HASHIDS_SALT=settings.HASHIDS_SALT,
        **more,
    )
    return env


def _step(clusters: Clusters, name: str) -> dict:
    """A step of tests/insights/replica_steps.py in a process of its own; what it printed last."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.insights.replica_steps", name],
        cwd=ROOT,
        env=_environment(
            clusters, TASKS_IN_BACKGROUND_THREAD="false", SIMULATED_GATEWAY_MIX="delivered:100", LOG_LEVEL="WARNING"
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class Browser:
    """A signed-in manager's pages and the API, over HTTP to the project under gunicorn."""

    def __init__(self, base: str, seeded: dict):
        self.base, self.seeded = base, seeded
        cookies = http.cookiejar.CookieJar(policy=_SecureCookiesOverPlainHttp())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
        sign_in = self.page("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', sign_in).group(1)
        form = {"csrfmiddlewaretoken": token, "username": seeded["email"], "password": seeded["password"]}
        with self.opener.open(f"{base}/accounts/login/", data=urllib.parse.urlencode(form).encode()) as response:
            assert response.url.endswith("/campaigns/"), response.url

    def page(self, path: str) -> str:
        with self.opener.open(f"{self.base}{path}", timeout=30) as response:
            return response.read().decode()

    def api(self, path: str) -> tuple[dict, dict]:
        request = urllib.request.Request(
            f"{self.base}/api/v1/{path}", headers={"Authorization": f"Bearer {self.seeded['api_key']}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read()), dict(response.headers)

    def click(self, path: str) -> None:
        """A phone opens a short link: a 302, not followed."""
        request = urllib.request.Request(f"{self.base}{path}", headers={"User-Agent": PHONE})
        try:
            urllib.request.build_opener(_NoRedirects).open(request, timeout=30)
        except urllib.error.HTTPError as answer:
            assert answer.code == 302, answer.code
        else:
            raise AssertionError("the short link did not redirect")


class _SecureCookiesOverPlainHttp(http.cookiejar.DefaultCookiePolicy):
    """With DEBUG off the session and CSRF cookies are https-only; the server here speaks http on 127.0.0.1."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def app(clusters):
    """Migrated on the primary (the replica gets the tables by replaying it), the seed's org and campaign with two
    clicks, the project under gunicorn reading reports from the replica; a signed-in manager."""
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=_environment(clusters),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    seeded = _step(clusters, "seed")
    with running_web_server(
        DATABASE_URL=clusters.primary.url(),
        REPORTS_DATABASE_URL=clusters.replica.url(),
        REPORTS_LAG_NOTICE_SECONDS=LAG_NOTICE_SECONDS,
    ) as base:
        browser = Browser(base, seeded)
        for path in seeded["paths"][:2]:
            browser.click(path)
        clusters.wait_until_replayed()
        yield browser


# --- Reading the pages ------------------------------------------------------------------------------------------


def _figure(html: str, pattern: str) -> int:
    found = re.search(pattern, html, re.DOTALL)
    assert found, pattern
    return int(found.group(1).replace(",", ""))


def _insights_unique_sms(browser: Browser) -> int:
    return _figure(browser.page("/insights/"), r'<tr data-channel="sms">.*?<td data-figure="unique">([\d,]+)</td>')


def _list_row(browser: Browser, campaign: int) -> dict[str, int]:
    html = browser.page("/campaigns/")
    row = re.search(rf'<tr data-campaign="{campaign}">(.*?)</tr>', html, re.DOTALL)
    assert row, f"campaign {campaign} is not on the campaign list"
    return {
        figure: _figure(row.group(1), rf'<td data-figure="{figure}">([\d,]+)')
        for figure in ("messages", "unique_clicks")
    }


def _lag_notice(html: str) -> str:
    found = re.search(r'<p class="warning" id="figures-as-of" role="status">(.*?)</p>', html)
    return found.group(1) if found else ""


def _export_rows(browser: Browser, path: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(browser.page(path))))


def _eventually(check, what: str, seconds: float = 60):
    """`check()` once it answers truthy; a failure naming `what` if it never does within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer:
            return answer
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


# --- The tests --------------------------------------------------------------------------------------------------


def test_while_the_replica_lags_reports_show_its_figures_and_say_how_old_they_are_then_catch_up(clusters, app):
    campaign = app.seeded["campaign"]
    assert _insights_unique_sms(app) == 2
    # A caught-up replica of an idle primary is not behind, however long ago the last change it applied was.
    time.sleep(2 * float(LAG_NOTICE_SECONDS))
    assert _lag_notice(app.page("/insights/")) == ""
    assert _list_row(app, campaign) == {"messages": 6, "unique_clicks": 2}

    # Given the replica stops replaying what the primary writes
    clusters.replica.query("SELECT pg_wal_replay_pause()")
    # When a campaign is sent (a process of its own, as a worker) and two more recipients click
    launched = _step(clusters, "launch")
    for path in app.seeded["paths"][2:4]:
        app.click(path)

    # Then the sending wrote and read the primary: every message of the new campaign is there, and its page shows them
    assert launched["messages"] == 6
    during = launched["campaign"]
    assert _figure(app.page(f"/campaigns/{during}/"), r'<strong data-figure="total">([\d,]+)</strong>') == 6
    # and the report pages show the replica's figures, and say how old they are
    notice = _eventually(lambda: _lag_notice(app.page("/insights/")), "the Insights page never said it was behind")
    assert re.fullmatch(r"Figures as of \d\d:\d\d IST, \d+ (s|min) behind: .*", notice), notice
    assert _insights_unique_sms(app) == 2
    assert "During the pause" not in app.page("/insights/")
    assert _lag_notice(app.page("/campaigns/"))
    assert _list_row(app, campaign) == {"messages": 6, "unique_clicks": 2}
    assert _list_row(app, during) == {"messages": 0, "unique_clicks": 0}  # listed at once, its figures still coming
    detail, headers = app.api(f"campaigns/{campaign}/")
    assert detail["unique_clicks"] == 2 and detail["total_clicks"] == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", headers["X-Figures-As-Of"])
    new, _ = app.api(f"campaigns/{during}/")
    assert new["messages"] == 0
    clicks, _ = app.api(f"campaigns/{campaign}/clicks/")
    assert len(clicks["results"]) == 2
    assert [row["unique_click_count"] for row in _export_rows(app, "/insights/export.csv")] == ["2"]
    assert len(_export_rows(app, f"/insights/campaigns/{campaign}/clicks.csv")) == 2

    # When replay resumes, the figures catch up and the notice goes
    clusters.replica.query("SELECT pg_wal_replay_resume()")
    clusters.wait_until_replayed()
    assert _eventually(lambda: _insights_unique_sms(app) == 4, "the Insights page never caught up")
    assert _lag_notice(app.page("/insights/")) == "" and _lag_notice(app.page("/campaigns/")) == ""
    assert _list_row(app, during) == {"messages": 6, "unique_clicks": 0}
    detail, headers = app.api(f"campaigns/{campaign}/")
    assert detail["unique_clicks"] == 4 and "X-Figures-As-Of" not in headers
    assert len(_export_rows(app, f"/insights/campaigns/{campaign}/clicks.csv")) == 4


def test_with_the_replica_gone_reports_read_the_primary(clusters, app):
    campaign = app.seeded["campaign"]
    clusters.wait_until_replayed()
    before, _ = app.api(f"campaigns/{campaign}/")

    # Given the replica is stopped
    clusters.replica.stop()
    # When one more recipient clicks
    app.click(app.seeded["paths"][5])

    # Then the reports answer with the primary's figures, which count that click, and no notice
    detail, headers = app.api(f"campaigns/{campaign}/")
    assert detail["unique_clicks"] == before["unique_clicks"] + 1 and "X-Figures-As-Of" not in headers
    html = app.page("/insights/")
    assert _lag_notice(html) == ""
    assert _insights_unique_sms(app) == before["unique_clicks"] + 1
    assert _list_row(app, campaign)["unique_clicks"] == before["unique_clicks"] + 1
    assert len(_export_rows(app, f"/insights/campaigns/{campaign}/clicks.csv")) == before["unique_clicks"] + 1
