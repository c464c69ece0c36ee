"""Chromium: launching asks for confirmation first, a time that has passed is an error next to the field, and a
campaign whose template lacks its sender is refused at launch. Screenshots go to tests/artifacts/."""

from pathlib import Path

import pytest

from campaigns.models import Campaign
from delivery.models import Message
from tests.factories import PASSWORD, TemplateFactory, create_campaign, make_customers

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, manager, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_launch_shows_what_it_will_do_and_sends_only_once_confirmed(
    transactional_db, live_server, browser_page, org, template, manager
):
    # given a draft to 10 customers
    make_customers(org, 10)
    campaign = create_campaign(template, manager, name="Diwali")
    page = browser_page
    _sign_in(page, live_server, manager, f"/campaigns/{campaign.pk}/")

    # when the manager presses Launch
    page.click("button:has-text('Launch campaign')")

    # then the confirmation says to whom, for how much, when, from which sender and template; nothing is sent yet
    page.wait_for_selector("#launch-confirmation")
    _screenshot(page, "launch-confirmation")
    assert page.locator('[data-confirm="recipients"]').inner_text() == "10"
    assert page.locator('[data-confirm="credits"]').inner_text() == "10"
    assert page.locator('[data-confirm="balance_after"]').inner_text() == "9990"
    assert page.locator('[data-confirm="when"]').inner_text() == "Now"
    assert page.locator('[data-confirm="sender"]').inner_text() == "ACMERT (Service-Implicit)"
    assert "1707160000000000001" in page.locator('[data-confirm="template"]').inner_text()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()

    # when they confirm, then it is sent
    page.click("#launch-confirm")
    page.wait_for_selector("text=Campaign launched")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
    assert Message.objects.filter(campaign=campaign).count() == 10


def test_a_time_that_has_passed_is_an_error_next_to_the_field_that_keeps_it(
    transactional_db, live_server, browser_page, org, template, manager
):
    make_customers(org, 3)
    campaign = create_campaign(template, manager, name="Late")
    page = browser_page
    _sign_in(page, live_server, manager, f"/campaigns/{campaign.pk}/")

    # when the manager chooses a time, one that has passed, and launches
    page.check("#id_when_1")
    page.fill("#id_scheduled_at", "2020-01-01T10:00")
    page.click("button:has-text('Launch campaign')")

    # then the page says so next to the field, with the time as typed; nothing is sent, nor is it sent now
    field = page.locator("#field-scheduled_at")
    field.locator(".errorlist").wait_for()
    _screenshot(page, "launch-time-passed")
    assert "This time has passed" in field.inner_text()
    assert page.input_value("#id_scheduled_at") == "2020-01-01T10:00"
    assert page.is_checked("#id_when_1")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()


def test_a_campaign_whose_template_has_no_sender_is_refused_at_launch(
    transactional_db, live_server, browser_page, org, manager
):
    # given a template saved without its sender (header), and a draft using it
    make_customers(org, 3)
    template = TemplateFactory(org=org, name="Awaiting DLT", sender=None)
    campaign = create_campaign(template, manager, name="Too soon")
    page = browser_page
    _sign_in(page, live_server, manager, "/campaigns/templates/")

    # the template list marks it incomplete
    assert "Incomplete" in page.locator(f'[data-complete="{template.pk}"]').inner_text()

    # when the manager launches the campaign
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click("button:has-text('Launch campaign')")

    # then it is refused, naming what is missing, before any confirmation; nothing is sent
    page.wait_for_selector(".messages .error")
    _screenshot(page, "launch-template-incomplete")
    assert "“Awaiting DLT” is incomplete: it has no sender (header)" in page.locator(".messages").inner_text()
    assert page.locator("#launch-confirmation").count() == 0
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()


def test_the_template_page_counts_the_sms_as_it_is_typed(transactional_db, live_server, browser_page, org, manager):
    page = browser_page
    _sign_in(page, live_server, manager, "/campaigns/templates/new/")

    page.fill("#id_body", "नमस्ते {#var#} 🎉")
    fixed = page.locator('[data-row="fixed"]')
    assert fixed.locator('[data-length="encoding"]').inner_text() == "UCS-2"
    assert fixed.locator('[data-length="segments"]').inner_text() == "1"
    assert page.locator("#sms-length-warning").is_hidden()

    page.fill("#id_body", "Dear {#var#}, " + "a" * 1_000)
    assert fixed.locator('[data-length="segments"]').inner_text() == "7"
    assert page.locator("#sms-length-warning").is_visible()
    _screenshot(page, "template-sms-length")
