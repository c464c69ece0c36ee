"""Launch approval on the pages: the request and each person's buttons, other orgs, CSRF, the list and the API, and
the switch on the sending rules page."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Org
from insights.api import keys as api_keys
from tests.campaigns.lifecycle.approvals import Status, _as, _messages, _page, _request
from tests.factories import create_campaign

pytestmark = pytest.mark.usefixtures("_approval_public_base_url")


# --- The pages -----------------------------------------------------------------------------------------------------


def test_the_page_shows_the_request_and_the_buttons_each_person_may_use(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    assert "Send for approval" in _page(manager, campaign)
    _request(campaign, manager, django_capture_on_commit_callbacks)

    for_colleague, for_requester = _page(colleague, campaign), _page(manager, campaign)

    request = re.search(r'<p id="approval-request">(.*?)</p>', for_colleague, re.S).group(1)
    assert re.fullmatch(
        r"Requested by <strong>manager@acme\.test</strong> on \d+ \w{3} \d{4} \d\d:\d\d \(Asia/Kolkata\), "
        r'<span id="approval-launch">to send now</span>\. Nothing is sent until it is approved\.',
        request,
    )
    assert 'data-figure="status">Waiting for approval<' in for_colleague
    assert "Approve and launch" in for_colleague and 'name="reason"' in for_colleague
    assert "Withdraw the request" not in for_colleague
    assert "Approve and launch" not in for_requester and 'name="reason"' not in for_requester
    assert "You sent this campaign for approval" in for_requester and "Withdraw the request" in for_requester
    assert "Launch campaign" not in for_requester and ">Change</a>" not in for_requester


def test_another_orgs_campaign_is_a_404_for_every_approval_action(
    approving, campaign, manager, outsider, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    client = _as(outsider)

    for action, data in (("approve", {}), ("reject", {"reason": "Not ours"}), ("withdraw", {})):
        assert client.post(reverse(f"campaigns:{action}", args=[campaign.pk]), data).status_code == 404

    assert Campaign.objects.get(pk=campaign.pk).status == Status.AWAITING_APPROVAL


def test_approval_actions_need_post_and_a_csrf_token(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    client = Client(enforce_csrf_checks=True)
    client.force_login(colleague)

    assert client.get(reverse("campaigns:approve", args=[campaign.pk])).status_code == 405
    for action in ("approve", "reject", "withdraw"):
        assert client.post(reverse(f"campaigns:{action}", args=[campaign.pk]), {"reason": "x"}).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == Status.AWAITING_APPROVAL
    page = _page(colleague, campaign)
    for form_id in ("approve-form", "reject-form"):
        form = page[page.index(f'id="{form_id}"') :]
        assert form.index('name="csrfmiddlewaretoken"') < form.index("</form>")


def test_the_list_and_the_reporting_api_know_the_status(
    approving, campaign, template, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    create_campaign(template, manager, name="Still a draft")
    client = _as(manager)

    def listed(**filters) -> set[str]:
        page = client.get(reverse("campaigns:list"), filters).content.decode()
        return set(re.findall(r'<tr data-campaign="\d+">\s*<td><a href="[^"]+">([^<]+)</a>', page))

    assert listed(status="in_progress") == {"Diwali sale"}
    assert listed(status="awaiting_approval") == {"Diwali sale"}
    key = api_keys.api_key_create(org=approving, user=manager, name="BI")[1]
    response = Client().get("/api/v1/campaigns/", {"status": "awaiting_approval"}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Diwali sale"]
    assert response.json()["results"][0]["status"] == "awaiting_approval"


# --- The switch ----------------------------------------------------------------------------------------------------


def test_a_manager_switches_approval_on_and_off_on_the_sending_rules_page(org, manager, outsider, other_org):
    client = _as(manager)
    url = reverse("campaigns:sending-rules-launch-approval", args=[org.pk])

    response = client.post(url, {"launch_needs_approval": "on"}, follow=True)

    org.refresh_from_db()
    assert org.launch_needs_approval and org.launch_approval_changed_by == manager
    page = html.unescape(response.content.decode())
    assert "<strong>On</strong>: a campaign that is launched waits" in page
    assert "Switched on by manager@acme.test on " in page
    client.post(url, {})
    assert not Org.objects.get(pk=org.pk).launch_needs_approval
    # another org's switch is a 404, and stays as it was
    assert (
        client.post(
            reverse("campaigns:sending-rules-launch-approval", args=[other_org.pk]), {"launch_needs_approval": "on"}
        ).status_code
        == 404
    )
    assert not Org.objects.get(pk=other_org.pk).launch_needs_approval


def test_support_switch_any_org_and_switching_off_launches_nothing_waiting(
    approving, campaign, manager, colleague, support, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    client = _as(support)

    response = client.post(reverse("campaigns:sending-rules-launch-approval", args=[approving.pk]), {}, follow=True)

    assert not Org.objects.get(pk=approving.pk).launch_needs_approval
    assert any("The 1 campaign already waiting must still be approved or withdrawn" in m for m in _messages(response))
    assert Campaign.objects.get(pk=campaign.pk).status == Status.AWAITING_APPROVAL
    assert "1 campaign of Acme Retail is waiting for approval" in html.unescape(response.content.decode())


def test_the_switch_needs_a_csrf_token(org, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(
        reverse("campaigns:sending-rules-launch-approval", args=[org.pk]), {"launch_needs_approval": "on"}
    )

    assert response.status_code == 403 and not Org.objects.get(pk=org.pk).launch_needs_approval
