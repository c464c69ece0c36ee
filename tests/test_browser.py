"""Chromium, driven by Playwright, signs in as the demo manager and opens the seeded campaign."""

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.browser


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
