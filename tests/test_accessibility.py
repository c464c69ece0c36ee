"""axe-core in Chromium on the pages people read most: a finished campaign's page, Insights, a draft's preview and a
message's page, on a laptop's screen, and a page on a phone's screen with its menu open (the crawl of
tests/test_phone_layout.py runs axe on every page at a phone's width, the menu folded). No rule of WCAG 2.1 A and AA
or of axe's best practices may be broken. Screenshots go to tests/artifacts/accessibility/."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.lifecycle import services as campaign_services
from campaigns.management.commands import seed_demo
from campaigns.models import Campaign, User
from delivery.models import Message
from tests.accessibility import axe_serve, axe_violations
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import CampaignFactory

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "accessibility"
PASSWORD = "demo-pass-123"
LAPTOP, PHONE = {"width": 1280, "height": 800}, {"width": 360, "height": 740}


def _pages() -> dict[str, str]:
    """The demo's finished SMS campaign (messages, clicks, failures), Insights, a draft's preview and a message."""
    finished = Campaign.objects.get(name=seed_demo.CAMPAIGN_NAME)
    draft = campaign_services.campaign_create(
        org=finished.org,
        user=User.objects.get(email="manager@demo.test"),
        name="Diwali early access",
        template=finished.template,
        slot_values=finished.slot_values,
    )
    message = Message.objects.filter(campaign=finished).exclude(sent_at=None).order_by("pk").first()
    return {
        "campaign": reverse("campaigns:detail", args=[finished.pk]),
        "insights": reverse("insights:overview"),
        "preview": reverse("campaigns:preview", args=[draft.pk]),
        "message": reverse("delivery:message", args=[message.pk]),
    }


def test_the_campaign_page_insights_the_preview_and_a_message_break_no_axe_rule(
    transactional_db, live_server, chromium, settings
):
    # given the demo, a draft of its campaign, and its manager signed in
    settings.DEMO_PASSWORD = PASSWORD
    call_command("seed_demo", stdout=io.StringIO())
    pages = _pages()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    violations = []
    context = chromium.new_context(viewport=LAPTOP, base_url=live_server.url)
    axe_serve(context, live_server.url)
    page = context.new_page()
    page.goto(reverse("login"))
    page.fill("#id_username", "manager@demo.test")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Campaigns")

    # when axe checks each page on a laptop's screen
    for name, path in pages.items():
        response = page.goto(path)
        assert response.status == 200, path
        page.screenshot(path=str(ARTIFACTS / f"{name}-laptop.png"), full_page=True)
        violations += axe_violations(page)

    # and the campaign page on a phone's, its menu open
    page.set_viewport_size(PHONE)
    page.goto(pages["campaign"])
    page.click(".menu-button")
    expect(page.locator("#site-menu")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "campaign-phone-menu-open.png"), full_page=True)
    violations += axe_violations(page)
    context.close()

    # then it found nothing
    assert not violations, "axe-core found:\n" + "\n".join(violations)


def test_a_page_that_updates_itself_reloads_until_the_reader_stops_it(
    transactional_db, live_server, chromium, manager, template
):
    # given a campaign that is sending, whose page follows it
    campaign = CampaignFactory(template=template, name="Flash sale", status="dispatching", launched_at=timezone.now())
    context = chromium.new_context(viewport=LAPTOP, base_url=live_server.url)
    page = context.new_page()
    page.goto(reverse("campaigns:detail", args=[campaign.pk]))
    page.fill("#id_username", manager.email)
    page.fill("#id_password", FACTORY_PASSWORD)
    page.click("button[type=submit]")
    live = page.locator("[data-reload-seconds]")

    # then the page says it updates itself, and does (WCAG 2.2.1: no meta refresh, which nobody can stop)
    expect(live).to_contain_text("This page updates itself every 5 seconds.")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    with page.expect_navigation(timeout=60_000):
        pass

    # when the reader presses Stop updating, the page says so, keeps the focus there and stays as it is
    page.get_by_role("button", name="Stop updating").click()
    expect(page.locator("[data-reload-seconds]")).to_contain_text("Updates stopped")
    expect(page.locator("[data-reload-seconds]")).to_be_focused()
    page.evaluate("() => { window.stillTheSamePage = true; }")
    page.wait_for_timeout(7_000)  # longer than the 5 seconds between reloads
    assert page.evaluate("() => window.stillTheSamePage === true")
    context.close()
