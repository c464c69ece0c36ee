"""Chromium: a manager imports customers, builds a segment with the live count and unsubscribes a customer."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Customer, Segment, Unsubscribe
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_manager_imports_segments_and_unsubscribes_in_the_browser(
    transactional_db, live_server, browser_page, manager, org, tmp_path, settings
):
    settings.IMPORT_FILES_DIR = tmp_path
    page = browser_page
    page.goto(f"{live_server.url}/campaigns/customers/")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # the manager uploads a file with a bad row
    page.click("text=Import customers")
    page.set_input_files(
        "#id_file",
        {
            "name": "customers.csv",
            "mimeType": "text/csv",
            "buffer": b"mobile,name,city\n98765 43210,Asha,Pune\n123,Bad,Pune\n09123456789,Ravi,Goa\n",
        },
    )
    page.fill("#id_list_name", "First import")
    page.click("button:has-text('Import')")
    page.wait_for_selector('[data-status="done"]')
    assert page.locator('[data-figure="created"]').inner_text() == "2"
    assert "mobile number is too short" in page.locator("tr.row-error").inner_text()

    # builds a segment and sees the live count change as they type
    page.goto(f"{live_server.url}/campaigns/segments/new/")
    page.fill("#id_name", "Pune customers")
    page.fill("#id_attribute_1", "city")
    page.fill("#id_value_1", "pune")
    expect(page.locator("#live-count")).to_have_text("1")
    page.select_option("#id_op_1", "ne")
    expect(page.locator("#live-count")).to_have_text("1")
    page.select_option("#id_op_1", "in")
    page.fill("#id_value_1", "pune, goa")
    expect(page.locator("#live-count")).to_have_text("2")
    page.click("button[name=save]")
    assert page.locator('[data-figure="segment_count"]').inner_text() == "2"
    assert Segment.objects.get(org=org).conditions == [{"attribute": "city", "op": "in", "value": ["pune", "goa"]}]

    # and unsubscribes Asha from SMS by hand
    asha = Customer.objects.get(org=org, name="Asha")
    page.goto(f"{live_server.url}/campaigns/customers/{asha.pk}/")
    page.fill("form[data-channel=sms] input[name=note]", "asked at the store")
    page.click("text=Unsubscribe from SMS")
    assert page.locator("[data-subscribed=sms]").inner_text() == "unsubscribed"
    assert Unsubscribe.objects.get(customer=asha).note == "by manager@acme.test — asked at the store"
