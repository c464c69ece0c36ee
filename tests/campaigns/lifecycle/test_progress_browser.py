"""Chromium: a campaign's progress from the launch on knows its audience, and reads 100% and Finished only once every
message has been handed to the gateway. Screenshots go to tests/artifacts/."""

from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from campaigns.lifecycle import services
from campaigns.models import Campaign
from campaigns.sending import starts
from campaigns.sending.dispatch import campaign_dispatch
from delivery.models import Message
from tests.factories import PASSWORD, create_campaign, make_customers

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_progress_reaches_100_only_at_the_end(
    transactional_db, live_server, browser_page, org, template, manager, monkeypatch
):
    # given a campaign to 10 customers launched, its messages not yet prepared
    make_customers(org, 10)
    campaign = create_campaign(template, manager, name="Diwali")
    monkeypatch.setattr(starts, "campaign_dispatch_task", SimpleNamespace(delay=lambda campaign_id: None))
    services.campaign_launch(campaign=campaign, user=manager)
    page = browser_page
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    percent = page.locator("[data-sending=done_percent]")

    # then the page knows the audience at once: 0 of 10
    expect(page.locator("[data-sending=total]")).to_have_text("10")
    expect(percent).to_have_text("0%")
    expect(page.locator("#sending-bar")).to_have_attribute("value", "0")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "progress_launched.png"), full_page=True)

    # when the messages are prepared and 6 of them handed over
    campaign_dispatch(campaign_id=campaign.pk)
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[6:]).update(status=Message.Status.QUEUED)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)
    page.reload()
    expect(percent).to_have_text("60%")
    expect(page.locator("[data-sending=handed_over]")).to_have_text("6")
    expect(page.locator("[data-sending=finished]")).to_have_count(0)

    # when every message is handed over while the campaign is still at work: 99%, not finished
    Message.objects.filter(pk__in=ids[6:]).update(status=Message.Status.SENT)
    page.reload()
    expect(percent).to_have_text("99%")
    expect(page.locator("[data-sending=finished]")).to_have_count(0)

    # and once it has finished: 100% and Finished
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHED)
    page.reload()
    expect(percent).to_have_text("100%")
    expect(page.locator("[data-sending=finished]")).to_have_text("Finished")
    expect(page.locator("#sending-bar")).to_have_attribute("value", "10")
    page.screenshot(path=str(ARTIFACTS / "progress_finished.png"), full_page=True)
