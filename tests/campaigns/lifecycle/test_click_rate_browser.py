"""Chromium: a promotional sender's campaign shows the click rate of the messages sent and says why, on its page and
in the list, and its preview warns that no delivery will be reported. Screenshots go to tests/artifacts/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.campaigns.lifecycle.unreported import promotional_template, sent_and_clicked
from tests.factories import PASSWORD, create_campaign

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_a_promotional_campaign_shows_the_click_rate_of_sent_messages_and_its_preview_warns(
    transactional_db, live_server, browser_page, org, manager, customers
):
    # given a promotional campaign: 8 of 10 messages sent, no receipts, 2 recipients clicked; and a draft of it
    template = promotional_template(org)
    campaign = sent_and_clicked(template, manager, customers, name="Weekend sale", handed_over=8, clickers=2)
    draft = create_campaign(template, manager, name="Next sale")
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # the campaign's page: 25.0% of sent, and why
    expect(page.locator('[data-figure="click_rate"]')).to_have_text("25.0%")
    expect(page.locator("#clicks")).to_contain_text("of sent")
    expect(page.locator("#click-rate-why")).to_contain_text("Operators report no delivery")
    page.screenshot(path=str(ARTIFACTS / "click-rate-of-sent-campaign-page.png"), full_page=True)

    # the list: delivery not reported, the rate of sent, the reason under the table
    page.goto(f"{live_server.url}/campaigns/")
    row = page.locator(f'tr[data-campaign="{campaign.pk}"]')
    expect(row.locator('[data-figure="delivered"]')).to_contain_text("not reported")
    expect(row.locator('[data-figure="click_rate"]')).to_contain_text("25.0% of sent")
    expect(page.locator("#per-sent-why")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "click-rate-of-sent-campaign-list.png"), full_page=True)

    # the draft's preview warns before launch
    page.goto(f"{live_server.url}/campaigns/{draft.pk}/preview/")
    expect(page.locator("#no-delivery-report")).to_contain_text("567890 is a promotional (numeric) sender")
    page.screenshot(path=str(ARTIFACTS / "preview-no-delivery-report.png"), full_page=True)
