"""Chromium, driven by Playwright, signs in as the demo manager and opens the seeded campaign."""

import io
import os
import shutil

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser_page():
    if not shutil.which(CHROMIUM):
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"{CHROMIUM} is required for browser tests")
        pytest.skip(f"{CHROMIUM} is not installed")
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are not async code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser.new_page()
        browser.close()


def test_demo_manager_signs_in_and_sees_the_campaign(transactional_db, live_server, browser_page, settings):
    settings.DEMO_PASSWORD = "demo-pass-123"
    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    page.goto(f"{live_server.url}/campaigns/")
    assert "/accounts/login/" in page.url

    page.fill("#id_username", "manager@demo.test")
    page.fill("#id_password", "demo-pass-123")
    page.click("button[type=submit]")
    page.click("text=Order shipped (demo)")

    assert page.locator("h1").inner_text() == "Order shipped (demo)"
    assert int(page.locator('[data-figure="total"]').inner_text()) == 200
    assert int(page.locator('[data-figure="delivered"]').inner_text()) > 150
    assert int(page.locator('[data-figure="unique_clicks"]').inner_text()) == 40
