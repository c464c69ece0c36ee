"""A second `make run` keeps people signed in: the demo server is started as `make run` starts it (migrate, seed the
demo, runserver) on a database of its own, a browser signs in, the server is stopped and started again, and the
browser is still signed in."""

import os
import shlex
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.local_peers import free_port, wait_until_listening

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = pytest.mark.browser


def _runserver_command_of_make_run(port: int) -> list[str]:
    """The web server's command line of `make run` (as make would run it), on `port` and without the reloader (whose
    child process would outlive a stop of the parent)."""
    plan = subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next(line for line in plan.splitlines() if "manage.py runserver" in line)
    words = shlex.split(line.rsplit(";", 1)[-1])
    assert Path(words[0]).name.startswith("python") and words[1:3] == ["manage.py", "runserver"]
    return [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]


def _demo_environment(database: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CLICK_STREAM_URL"}}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        EMAIL_FILE_PATH=str(tmp_path / "outbox"),
        DEBUG="true",  # as `make run` exports it
        LINK_CHECK_ALLOW_PRIVATE_ADDRESSES="true",
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true",
        GATEWAY_ALLOW_PRIVATE_ADDRESSES="true",
    )
    return env


@contextmanager
def _make_run(env: dict[str, str], port: int):
    """`make seed` (migrate, then the demo seed), then the web server until the block ends."""
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
    server = subprocess.Popen(
        _runserver_command_of_make_run(port), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C, as a developer stops `make run`
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.communicate(timeout=10)


def test_a_browser_signed_in_to_make_run_is_still_signed_in_after_a_second_make_run(tmp_path, browser_page):
    # given the demo of `make run`, and the manager signed in there
    env = _demo_environment(tmp_path / "db.sqlite3", tmp_path)
    port = free_port()
    page = browser_page
    with _make_run(env, port) as url:
        page.goto(f"{url}/accounts/login/")
        page.fill("#id_username", "manager@demo.test")
        page.fill("#id_password", "demo-pass-123")
        page.click("button[type=submit]")
        page.goto(f"{url}/campaigns/")
        assert "/accounts/login/" not in page.url

    # when `make run` is stopped and started again (which seeds the demo again)
    with _make_run(env, port) as url:
        page.goto(f"{url}/campaigns/")

        # then the browser is still signed in: the campaign list, not the sign-in page
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "second-make-run-still-signed-in.png"), full_page=True)
        assert "/accounts/login/" not in page.url
        assert page.locator("h1").first.inner_text() == "Campaigns"
        assert page.locator("text=Order shipped (demo)").count() >= 1
