"""Chromium: the template form shows only the chosen channel's fields, the campaign form a recurring schedule in words
(its fields following the choices made, its cron written on save, shown in words again when edited), and a form
with three mistakes shows all three; a destructive button is red. Screenshots go to tests/artifacts/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, Template
from tests.factories import PASSWORD, create_campaign

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, user, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_the_template_form_shows_the_fields_of_the_chosen_channel_only(
    transactional_db, live_server, browser_page, org, manager, sender
):
    page = browser_page
    _sign_in(page, live_server, manager, "/campaigns/templates/new/")
    sms_fields, email_fields = ("#field-sender", "#field-dlt_template_id"), ("#field-subject", "#field-html_body")

    # an SMS template (the default): its sender and DLT id, no subject nor HTML part
    for field in sms_fields:
        expect(page.locator(field)).to_be_visible()
    for field in email_fields:
        expect(page.locator(field)).to_be_hidden()

    # switched to email: the subject and HTML part, no sender nor DLT id
    page.select_option("#id_channel", "email")
    for field in sms_fields:
        expect(page.locator(field)).to_be_hidden()
    for field in email_fields:
        expect(page.locator(field)).to_be_visible()
    _screenshot(page, "template-form-email-fields")

    # saved as email, with what the SMS fields held before the switch left unread
    page.select_option("#id_channel", "sms")
    page.fill("#id_dlt_template_id", "12")
    page.select_option("#id_channel", "email")
    page.fill("#id_name", "Newsletter")
    page.fill("#id_subject", "News from Acme")
    page.fill("#id_body", "Hi {#var#}, here is our news")
    page.click("button:has-text('Save template')")
    expect(page.locator("text=Template 'Newsletter' saved.")).to_be_visible()
    template = Template.objects.get(name="Newsletter")
    assert (template.channel, template.dlt_template_id, template.subject) == ("email", "", "News from Acme")


def test_a_recurring_schedule_is_chosen_in_words_and_shown_in_words_when_edited(
    transactional_db, live_server, browser_page, org, manager, template
):
    page = browser_page
    _sign_in(page, live_server, manager, f"/campaigns/new/?template={template.pk}")

    # a one-time campaign has no schedule fields
    expect(page.locator("#field-schedule_every")).to_be_hidden()
    expect(page.locator("#field-schedule_time")).to_be_hidden()

    # recurring, every week: the days and the time, not the day of the month nor the cron
    page.fill("#id_name", "Weekly offers")
    page.select_option("#id_slot_1_source", "field")
    page.fill("#id_slot_1_value", "name")
    page.select_option("#id_slot_2_source", "url")
    page.fill("#id_slot_2_value", "https://acme.test/offers")
    page.select_option("#id_kind", "recurring")
    page.select_option("#id_schedule_every", "week")
    expect(page.locator("#field-schedule_weekdays")).to_be_visible()
    expect(page.locator("#field-schedule_time")).to_be_visible()
    expect(page.locator("#field-schedule_day")).to_be_hidden()
    expect(page.locator("#field-schedule")).to_be_hidden()
    page.check("#field-schedule_weekdays input[value='1']")
    page.check("#field-schedule_weekdays input[value='5']")
    page.fill("#id_schedule_time", "18:30")
    _screenshot(page, "campaign-form-schedule-in-words")
    page.click("button:has-text('Save campaign')")

    # the campaign page says it in words, with its cron and its next runs
    expect(page.locator("#schedule")).to_contain_text("every week on Monday and Friday at 18:30")
    expect(page.locator("#schedule")).to_contain_text("30 18 * * 1,5")
    expect(page.locator("#schedule")).to_contain_text("next runs")
    campaign = Campaign.objects.get(name="Weekly offers")
    assert campaign.schedule == "30 18 * * 1,5"

    # editing shows it in words again; custom (cron) shows the cron field
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/edit/")
    expect(page.locator("#id_schedule_every")).to_have_value("week")
    expect(page.locator("#field-schedule_weekdays input[value='1']")).to_be_checked()
    expect(page.locator("#field-schedule_weekdays input[value='2']")).not_to_be_checked()
    expect(page.locator("#id_schedule_time")).to_have_value("18:30")
    expect(page.locator("#next-runs")).to_be_visible()
    page.select_option("#id_schedule_every", "cron")
    expect(page.locator("#field-schedule")).to_be_visible()
    expect(page.locator("#field-schedule_weekdays")).to_be_hidden()


def test_a_campaign_form_with_three_mistakes_shows_all_three(
    transactional_db, live_server, browser_page, org, manager, template
):
    page = browser_page
    _sign_in(page, live_server, manager, f"/campaigns/new/?template={template.pk}")

    # no name, a customer field nobody has, a schedule that is not cron
    page.select_option("#id_slot_1_source", "field")
    page.fill("#id_slot_1_value", "first_name_typo")
    page.select_option("#id_slot_2_source", "url")
    page.fill("#id_slot_2_value", "https://acme.test/offers")
    page.select_option("#id_kind", "recurring")
    page.select_option("#id_schedule_every", "cron")
    page.fill("#id_schedule", "every monday")
    page.click("button:has-text('Save campaign')")

    # all three at the top, and each next to its field
    summary = page.locator("#error-summary li")
    expect(summary).to_have_count(3)
    expect(page.locator("#error-summary")).to_be_visible()
    _screenshot(page, "campaign-form-three-mistakes")
    expect(page.locator("#field-schedule .errorlist")).to_contain_text("is not a valid schedule")
    expect(page.locator("#field-schedule")).to_be_visible()
    expect(page.locator("text=first_name_typo").first).to_be_visible()
    assert not Campaign.objects.exists()


def test_destructive_buttons_are_red_and_others_are_not(transactional_db, live_server, browser_page, manager, template):
    draft = create_campaign(template, manager, name="Draft")
    page = browser_page
    _sign_in(page, live_server, manager, f"/campaigns/{draft.pk}/")

    def background(button) -> str:
        return button.evaluate("element => getComputedStyle(element).backgroundColor")

    delete = page.locator("button:has-text('Delete')").first
    expect(delete).to_be_visible()
    assert background(delete) == "rgb(176, 0, 32)"
    assert background(page.locator("button:has-text('Launch campaign')")) != "rgb(176, 0, 32)"
    _screenshot(page, "draft-delete-button-red")
