"""Chromium, in the embedded mode (tasks on background threads): uploading customers answers at once with the
progress page, which follows the import to its end. Screenshots go to tests/artifacts/."""

import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from campaigns.customers import tasks as import_tasks
from campaigns.models import Customer
from linktrack.celery import background_threads
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_in_the_embedded_mode_an_import_answers_at_once_and_progresses_on_the_page(
    transactional_db, live_server, browser_page, manager, org, tmp_path, settings, monkeypatch
):
    # given the embedded mode, and an import that waits until the test lets it go
    settings.IMPORT_FILES_DIR = tmp_path
    settings.TASKS_IN_BACKGROUND_THREAD = True
    go = threading.Event()
    real_import = import_tasks.import_customers

    def held_import(**kwargs):
        assert go.wait(60)
        return real_import(**kwargs)

    monkeypatch.setattr(import_tasks, "import_customers", held_import)
    rows = "".join(f"98{n:08d},Customer {n}\n" if n % 500 else f"{n},Bad {n}\n" for n in range(1, 3001))
    page = browser_page
    page.goto(f"{live_server.url}/campaigns/customers/import/")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    try:
        # when the manager uploads 3,000 rows
        page.set_input_files(
            "#id_file",
            {"name": "customers.csv", "mimeType": "text/csv", "buffer": ("mobile,name\n" + rows).encode()},
        )
        page.click("button:has-text('Import')")

        # then the progress page is there before a row is imported, the rows not even counted yet
        expect(page.locator("#import-state")).to_have_text(re.compile(r"^(Waiting to start the import|Importing)…"))
        expect(page.locator("[data-figure=counting]")).to_have_text("Counting the rows of the file…")
        assert not Customer.objects.filter(org=org).exists()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "import_queued.png"), full_page=True)
        go.set()

        # and it follows the import to its end (refreshing itself), with the total and the skipped rows by line
        expect(page.locator("#import-state")).to_have_text("Import finished.", timeout=60_000)
        expect(page.locator("[data-figure=total]")).to_have_text("3000")
        expect(page.locator("[data-figure=skipped]")).to_have_text("6")
        expect(page.locator("#skipped-rows tr.row-error td:first-child")).to_have_text(
            ["501", "1001", "1501", "2001", "2501", "3001"]
        )
        expect(page.locator("#skipped-export")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "import_finished.png"), full_page=True)
    finally:
        go.set()
        background_threads.wait()  # nothing of the import left running when the test database is emptied
    assert Customer.objects.filter(org=org).count() == 2994
