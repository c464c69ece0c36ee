"""Chromium, driven by Playwright, signs in as the demo manager and opens the seeded campaign."""

import io

import pytest
from django.core.management import call_command

from campaigns.models import Campaign

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
    assert int(page.locator('[data-figure="unique_clicks"]').inner_text()) == 60


def test_the_pages_fit_a_phone_and_the_account_links_keep_together_on_a_laptop(
    transactional_db, live_server, browser_page, settings
):
    # given the demo, signed in as its support staff (who have the most links in the header)
    settings.DEMO_PASSWORD = "demo-pass-123"
    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "support@demo.test")
    page.fill("#id_password", "demo-pass-123")
    page.click("button[type=submit]")
    campaign_page = f"{live_server.url}{page.locator('text=Order shipped (demo)').get_attribute('href')}"

    # when a laptop's window shows the campaign list
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/campaigns/")
    # then the account's links sit on one line, none of them broken over two
    tops = page.eval_on_selector_all("header .account > *", "els => els.map(e => e.getBoundingClientRect().top)")
    heights = page.eval_on_selector_all("header .account a", "els => els.map(e => e.getBoundingClientRect().height)")
    assert len(tops) == 5 and max(tops) - min(tops) < 10
    assert max(heights) < 2 * min(heights)

    # when a phone shows the list and the campaign's page, with their wide tables
    page.set_viewport_size({"width": 390, "height": 800})
    for url in (f"{live_server.url}/campaigns/", campaign_page):
        page.goto(url)
        # then nothing is wider than the screen: the tables scroll on their own
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url


def test_deleting_a_draft_asks_first(transactional_db, live_server, browser_page, settings):
    # given the demo manager on a draft: a copy of the seeded campaign
    settings.DEMO_PASSWORD = "demo-pass-123"
    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "manager@demo.test")
    page.fill("#id_password", "demo-pass-123")
    page.click("button[type=submit]")
    page.click("text=Order shipped (demo)")
    page.click("button:has-text('Duplicate')")
    draft = Campaign.objects.get(name="Order shipped (demo) (copy)")
    page.goto(f"{live_server.url}/campaigns/{draft.pk}/")
    questions = []

    # when they press Delete and then Cancel in the question
    def cancel(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", cancel)
    page.click("button:has-text('Delete')")

    # then they were asked, and the draft is kept
    assert questions == ["Delete this campaign? It has not been sent."]
    assert page.url == f"{live_server.url}/campaigns/{draft.pk}/"
    assert Campaign.objects.filter(pk=draft.pk).exists()

    # when they press Delete and then OK
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button:has-text('Delete')")

    # then the draft is gone
    assert not Campaign.objects.filter(pk=draft.pk).exists()
