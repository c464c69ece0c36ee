"""Chromium: support switches tracking on after confirming; a manager fixes a template and previews a campaign."""

import pytest

from campaigns.models import Template
from delivery.models import Message, Proof
from tests.factories import (
    PASSWORD,
    CampaignFactory,
    MembershipFactory,
    OrgFactory,
    SenderIdFactory,
    UserFactory,
    make_customers,
)

pytestmark = pytest.mark.browser


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_support_confirms_before_switching_tracking_on(transactional_db, live_server, browser_page):
    # given an org without tracking whose template has a link in its fixed text
    org = OrgFactory(name="Chai Co")
    sender = SenderIdFactory(org=org, header="CHAICO", category="service_implicit", dlt_entity_id="1" * 19)
    Template.objects.create(org=org, name="Sale", sender=sender, body="Sale at chai.in/sale today, {#var#}")
    UserFactory(email="support@linktrack.test", password=PASSWORD, is_staff=True)
    page = browser_page
    _sign_in(page, live_server.url, "support@linktrack.test")
    # when support opens the org and switches tracking on without confirming
    page.click("text=Support")
    page.click("text=Chai Co")
    assert page.locator("#affected-templates code").inner_text() == "chai.in/sale"
    page.click("text=Switch SMS link tracking on")
    # then it is refused with the reason, and switched on once confirmed
    assert "have links outside a variable" in page.locator(".errorlist").inner_text()
    assert page.locator("#tracking-state").inner_text() == "off"
    page.check("#id_confirm")
    page.click("text=Switch SMS link tracking on")
    assert page.locator("#tracking-state").inner_text() == "on"
    org.refresh_from_db()
    assert org.sms_link_tracking and org.link_tracking_changed_by.email == "support@linktrack.test"


def test_manager_sees_the_template_error_in_place_then_previews_a_campaign(transactional_db, live_server, browser_page):
    org = OrgFactory(name="Chai Co", sms_link_tracking=True, short_domain="s.cplry.com")
    manager = UserFactory(email="manager@chai.test", password=PASSWORD)
    MembershipFactory(user=manager, org=org)
    make_customers(org, 3)
    page = browser_page
    _sign_in(page, live_server.url, "manager@chai.test")
    # when the manager writes a template with a malformed variable
    page.click("text=Templates")
    page.click("text=New template")
    page.fill("#id_name", "Welcome")
    page.fill("#id_body", "Hi {#Var#}, shop: {#var#}")
    page.click("text=Save template")
    # then the error is next to the body, with the position, and the text is kept
    error = page.locator("#field-body .errorlist").inner_text()
    assert "'{#Var#}' looks like a variable but is not one" in error and "(at character 4)" in error
    assert page.locator("#id_body").input_value() == "Hi {#Var#}, shop: {#var#}"
    page.fill("#id_body", "Hi {#var#}, shop: {#var#}")
    page.click("text=Save template")
    template = Template.objects.get(name="Welcome")
    # and the preview of a draft using it shows the message before and after rewriting
    campaign = CampaignFactory(
        org=org,
        name="Launch",
        template=template,
        slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "www.chai.in"}],
    )
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click("#preview-link")
    assert page.locator('[data-row="before"] code').inner_text() == "Hi Customer 1, shop: www.chai.in"
    assert page.locator('[data-row="after"] code').inner_text() == "Hi Customer 1, shop: s.cplry.com/XXXXXXXXXX"
    assert page.locator('[data-figure="credits_after"]').inner_text() == "3"


def test_a_test_still_being_handed_over_follows_its_outcome_on_the_preview(transactional_db, live_server, browser_page):
    # given a draft with a test that a worker has not handed to the gateway yet
    org = OrgFactory(name="Chai Co")
    manager = UserFactory(email="manager@chai.test", password=PASSWORD)
    MembershipFactory(user=manager, org=org)
    template = Template.objects.create(org=org, name="Hello", body="Hello {#var#}")
    campaign = CampaignFactory(
        org=org, name="Hello", template=template, slot_values=[{"source": "text", "value": "there"}]
    )
    proof = Proof.objects.create(campaign=campaign, sent_by=manager, recipients=1)
    test = Message.with_proofs.create(
        campaign=campaign, proof=proof, channel="sms", recipient="+919810000001", body="Hello there"
    )
    page = browser_page
    _sign_in(page, live_server.url, "manager@chai.test")
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/preview/")
    assert page.locator("#proof-list tr").nth(1).get_attribute("data-status") == "queued"
    # when the worker hands it over
    Message.with_proofs.filter(pk=test.pk).update(status="sent")
    # then the open preview shows it handed over without being reloaded
    page.wait_for_selector('#proof-list tr[data-status="sent"]', timeout=15_000)
    assert "Sent, waiting for a receipt" in page.locator("#proof-list").inner_text()
