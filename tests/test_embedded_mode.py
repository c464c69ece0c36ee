"""`make run`'s embedded mode (SQLite, tasks in-process) runs Celery beat beside the web server, so scheduled
campaigns start there too: here the beat command `make run` gives, on a demo database of its own."""

import os
import shlex
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCHEDULE_IN_A_FEW_SECONDS = """
from datetime import timedelta
from django.utils import timezone
from campaigns.lifecycle import services
from campaigns.models import Template, User
manager = User.objects.get(email="manager@demo.test")
template = Template.objects.get(org__name="Demo Brand", name="Order shipped")
campaign = services.campaign_create(
    org=template.org, user=manager, name="Scheduled in the embedded mode", template=template,
    slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "https://demo-brand.example/t"}],
)
services.campaign_launch(campaign=campaign, user=manager, scheduled_at=timezone.now() + timedelta(seconds=3))
print(campaign.pk)
"""


def _beat_command_of_make_run(schedule_file: Path) -> list[str]:
    """The beat command line of `make run` (as make would run it), its schedule file moved to `schedule_file`."""
    plan = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next(line for line in plan.splitlines() if " beat " in line)
    words = shlex.split(line.split("&", 1)[0])
    words[words.index("--schedule") + 1] = str(schedule_file)
    assert Path(words[0]).name == "celery"
    return [sys.executable, "-m", "celery", *words[1:]]


def test_make_runs_beat_in_the_embedded_mode_and_it_starts_a_scheduled_campaign_on_time(tmp_path):
    # given the embedded mode on a demo database of its own, the supervisor passing every second
    database = tmp_path / "db.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CLICK_STREAM_URL"}},
        "DATABASE_URL": f"sqlite:///{database}",
        "EMAIL_FILE_PATH": str(tmp_path / "outbox"),
        "CAMPAIGN_SUPERVISE_SECONDS": "1",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput")
    manage("seed_demo")
    # the demo is whole when the command returns: its campaign sent, clicked, its clicks counted
    with sqlite3.connect(database) as db:
        (clicks,) = db.execute("SELECT count(*) FROM linktrack_click WHERE NOT is_bot").fetchone()
        (counted,) = db.execute("SELECT coalesce(sum(total), 0) FROM linktrack_dailyclicks").fetchone()
    assert clicks > 0 and counted == clicks
    # and a campaign scheduled a few seconds ahead
    campaign_id = int(manage("shell", "-c", SCHEDULE_IN_A_FEW_SECONDS).split()[-1])

    def status() -> tuple[str, int]:
        with sqlite3.connect(database) as db:
            (state,) = db.execute("SELECT status FROM campaigns_campaign WHERE id = ?", [campaign_id]).fetchone()
            (handed,) = db.execute(
                "SELECT count(*) FROM delivery_message WHERE campaign_id = ? AND gateway_message_id != ''",
                [campaign_id],
            ).fetchone()
        return state, handed

    assert status() == ("scheduled", 0)

    # when beat runs as `make run` starts it
    beat = subprocess.Popen(
        _beat_command_of_make_run(tmp_path / "beat-schedule"),
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and status()[0] != "dispatched":
            assert beat.poll() is None, beat.stdout.read()
            time.sleep(0.5)
    finally:
        beat.terminate()
        output, _ = beat.communicate(timeout=30)

    # then the campaign was started when its time came and all its messages were handed to the simulated gateway
    state, handed = status()
    assert state == "dispatched", output
    assert handed > 150
    assert "database is locked" not in output
