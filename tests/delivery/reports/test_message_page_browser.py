"""Chromium: from a customer's messages a manager opens a message's page and reads its text as sent, its link with
the clicks on it, its sender and DLT ids and its history. Screenshots go to tests/artifacts/."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from delivery.models import Message
from linktrack.models import ShortLink
from tests.factories import PASSWORD, store_click

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_a_manager_opens_a_message_from_the_customers_page_and_reads_what_was_sent(
    transactional_db, live_server, browser_page, manager, customers, send_campaign
):
    # given a sent campaign whose first message's link was clicked once
    campaign = send_campaign(name="Diwali sale")
    message = Message.objects.filter(campaign=campaign).order_by("pk").first()
    store_click(
        short_link=ShortLink.objects.get(campaign=campaign),
        campaign=campaign,
        message=message,
        channel="sms",
        clicked_at=timezone.now(),
        user_agent="Mozilla/5.0 (iPhone)",
    )
    page = browser_page
    page.goto(f"{live_server.url}/campaigns/customers/{message.customer_id}/")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # when the manager opens the message from the customer's messages
    page.click(f"tr[data-message='{message.pk}'] a[data-message-page]")

    # then its page shows the text as sent, the link it carried with its click, the ids and the history
    expect(page.locator("h1")).to_have_text(f"Message {message.pk}")
    expect(page.locator("#message-text")).to_have_text(message.body)
    expect(page.locator("#message-links td[data-clicks]")).to_have_text("1")
    expect(page.locator("#message-links")).to_contain_text("https://acme.test/t")
    expect(page.locator("[data-message=sender]")).to_have_text("ACMERT")
    expect(page.locator("[data-message=dlt_template_id]")).to_have_text("1707160000000000001")
    message.refresh_from_db()  # prepared, accepted, and (once the simulated receipt came) its end
    expect(page.locator("#message-history li")).to_have_count(3 if message.is_final else 2)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "message_page.png"), full_page=True)
