"""Chromium: a campaign manager goes from the campaign page to View Details and downloads the affected recipients."""

from pathlib import Path

import pytest

from campaigns.lifecycle import services as campaign_services
from delivery.models import Message
from tests.factories import (
    LINK_SLOTS,
    PASSWORD,
    MembershipFactory,
    OrgFactory,
    SenderIdFactory,
    TemplateFactory,
    UserFactory,
    make_customers,
)

pytestmark = pytest.mark.browser


# The simulated gateway picks each message's outcome from its id: ids from 1, whichever tests ran before, give this
# campaign its mix of outcomes on every run.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_manager_reads_why_messages_failed_and_downloads_them(transactional_db, live_server, browser_page, settings):
    # given a sent campaign where the simulated operators reported undeliverable and DLT header errors

    settings.SIMULATED_GATEWAY_MIX = "delivered:2,undeliverable:1,dlt_sender_id:1"
    org = OrgFactory(name="Browser Brand", sms_link_tracking=True, credits=1000)
    manager = UserFactory(email="browser@brand.test", password=PASSWORD)
    MembershipFactory(user=manager, org=org)
    sender = SenderIdFactory(org=org, header="BRANDS", category="service_implicit",
                                     dlt_entity_id="1701160000000000003")  # fmt: skip
    template = TemplateFactory(org=org, name="Shipped", sender=sender, dlt_template_id="1707160000000000003",
                                       body="Hi {#var#}, your order has shipped. Track it: {#var#} - Brand")  # fmt: skip
    make_customers(org, 20)
    campaign = campaign_services.campaign_create(org=org, user=manager, name="Browser run", template=template,
                                                 slot_values=LINK_SLOTS)  # fmt: skip
    campaign_services.campaign_launch(campaign=campaign, user=manager)
    failed = Message.objects.filter(campaign=campaign, status=Message.Status.NOT_DELIVERED)
    undeliverable = failed.filter(reason_code="undeliverable").count()
    assert failed.count() and undeliverable

    # when the manager signs in, opens the campaign and follows View Details next to "Not delivered"
    page = browser_page
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click('a[data-details="not_delivered"]')

    # then each reason is explained with its share, and the recipients can be downloaded
    section = page.locator('[data-reason="undeliverable"]')
    assert section.locator("h2").inner_text() == "Gateway confirmed it cannot be delivered"
    assert section.locator("[data-count]").inner_text() == str(undeliverable)
    assert section.locator("[data-percent]").inner_text() == f"{round(100 * undeliverable / 20, 1)}%"
    assert "XXXXXX" in section.locator(".recipient").first.inner_text()
    with page.expect_download() as download:
        section.locator("text=Download these").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("recipient,") and len(lines) == undeliverable + 1
