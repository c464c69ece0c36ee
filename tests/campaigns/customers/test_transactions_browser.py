"""Chromium: a manager uploads purchases on the Transactions page, follows the import to its end with the skipped
rows by line, and reads on the campaign's page who bought among those who clicked and those who did not."""

import pytest
from playwright.sync_api import expect

from linktrack.celery import background_threads
from tests.campaigns.customers.transactions_helpers import click, ist, reached
from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.browser


def test_a_manager_uploads_purchases_and_sees_them_on_the_campaign_page(
    transactional_db, live_server, browser_page, manager, org, template, tmp_path, settings
):
    settings.IMPORT_FILES_DIR = tmp_path
    settings.TASKS_IN_BACKGROUND_THREAD = True
    clicker, other = CustomerFactory(org=org, external_id="C1"), CustomerFactory(org=org, external_id="C2")
    campaign, message = reached(template, clicker, ist(2026, 11, 1, 10, 0), name="Diwali")
    campaign.messages.create(
        customer=other, channel="sms", recipient=other.mobile, status="delivered",
        sent_at=ist(2026, 11, 1, 10, 0), finished_at=ist(2026, 11, 1, 10, 0),
    )  # fmt: skip
    click(message, ist(2026, 11, 1, 10, 5))
    rows = "transaction_id,time,amount,external_id\nT1,2026-11-01 12:00,1500,C1\nT2,2026-11-02 12:00,abc,C2\n"
    page = browser_page
    page.goto(f"{live_server.url}/campaigns/transactions/")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    try:
        expect(page.locator(".attribution-rule")).to_contain_text("within 7 days after it was delivered")
        page.set_input_files(
            "#transaction-import #id_file",
            {"name": "purchases.csv", "mimeType": "text/csv", "buffer": rows.encode()},
        )
        page.click("#transaction-import button:has-text('Import')")

        expect(page.locator("#import-state")).to_have_text("Import finished.", timeout=60_000)
        expect(page.locator("[data-figure=created]")).to_have_text("1")
        expect(page.locator("#skipped-rows tr.row-error td:first-child")).to_have_text(["3"])
        expect(page.locator("#skipped-rows tr.row-error td:last-child")).to_contain_text(["“abc” is not a number"])

        page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
        clicked = page.locator("#sales tr[data-group=clicked]")
        expect(clicked.locator("[data-figure=buyers]")).to_have_text("1")
        expect(clicked.locator("[data-figure=revenue]")).to_have_text("1,500.00")
        expect(clicked).to_contain_text("too few to compare")
        expect(page.locator("#sales tr[data-group=did_not_click] [data-figure=buyers]")).to_have_text("0")
    finally:
        background_threads.wait()
