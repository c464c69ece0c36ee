"""Launch approval: a request rejected with a reason, withdrawn by its requester, never changed while it waits,
cancelled as a scheduled campaign."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.lifecycle import approval, services
from campaigns.models import Campaign
from delivery.models import Message
from tests.campaigns.lifecycle.approvals import PUBLIC, Kind, Status, _as, _events, _messages, _page, _request

pytestmark = pytest.mark.usefixtures("_approval_public_base_url")


# --- Rejecting, withdrawing, changing, cancelling ----------------------------------------------------------------


def test_a_rejection_needs_a_reason_and_sends_it_back_to_draft_with_the_reason_shown(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    client = _as(colleague)
    url = reverse("campaigns:reject", args=[campaign.pk])

    # a reason that says nothing is refused in words
    response = client.post(url, {"reason": "  ... "}, follow=True)
    assert any("Say why you do not approve it" in m for m in _messages(response))
    response = client.post(url, {"reason": "x" * 201}, follow=True)
    assert any("Keep the reason to 200 characters (it has 201)" in m for m in _messages(response))
    assert Campaign.objects.get(pk=campaign.pk).status == Status.AWAITING_APPROVAL

    # with a reason it is a draft again, the reason on its page, in its history and emailed to the requester
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "Wrong  offer: the sale starts on Friday."})
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT and campaign.approval_requested_by is None
    assert "Not approved by colleague@acme.test: Wrong offer: the sale starts on Friday." in _page(manager, campaign)
    assert _events(campaign)[-1] == (Kind.REJECTED, "colleague@acme.test", "Wrong offer: the sale starts on Friday.")
    rejection = mail.outbox[-1]
    assert rejection.to == ["manager@acme.test"] and "Wrong offer: the sale starts on Friday." in rejection.body
    assert f"{PUBLIC}/campaigns/{campaign.pk}/" in rejection.body
    assert not Message.objects.filter(campaign=campaign).exists()


def test_the_requester_cannot_reject_and_the_reason_goes_when_launched_again(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="You sent this campaign for approval"):
        approval.campaign_reject(campaign=campaign, user=manager, reason="No")
    approval.campaign_reject(campaign=campaign, user=colleague, reason="Wrong link")

    _request(campaign, manager, django_capture_on_commit_callbacks)

    campaign.refresh_from_db()
    assert campaign.status == Status.AWAITING_APPROVAL and campaign.hold_reason == ""


def test_only_the_requester_withdraws_and_it_is_a_draft_again(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    assert "Withdraw the request" not in _page(colleague, campaign)
    response = _as(colleague).post(reverse("campaigns:withdraw", args=[campaign.pk]), follow=True)
    assert any("Only who sent it for approval can withdraw it" in m for m in _messages(response))
    assert "Withdraw the request" in _page(manager, campaign)

    response = _as(manager).post(reverse("campaigns:withdraw", args=[campaign.pk]), follow=True)

    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT and campaign.hold_reason == ""
    assert any("Request withdrawn" in m for m in _messages(response))
    assert _events(campaign)[-1] == (Kind.WITHDRAWN, "manager@acme.test", "")
    # and approving it afterwards is refused in words
    with pytest.raises(ValidationError, match="it is a draft"):
        approval.campaign_approve(campaign=campaign, user=colleague)


def test_a_campaign_waiting_for_approval_cannot_be_changed_or_deleted(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    client = _as(manager)

    edit = client.get(reverse("campaigns:edit", args=[campaign.pk]), follow=True)
    assert any("waiting for approval: withdraw it first, then change it" in m for m in _messages(edit))
    with pytest.raises(ValidationError, match="withdraw it first"):
        services.campaign_update(campaign=campaign, user=manager, name="Changed", slot_values=campaign.slot_values)
    delete = client.post(reverse("campaigns:delete", args=[campaign.pk]), follow=True)
    assert any("withdraw it first, then delete it" in m for m in _messages(delete))

    campaign.refresh_from_db()
    assert campaign.name == "Diwali sale" and campaign.status == Status.AWAITING_APPROVAL


def test_a_campaign_waiting_for_approval_is_cancelled_as_a_scheduled_one(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    assert f'action="/campaigns/{campaign.pk}/cancel/"' in _page(colleague, campaign)

    _as(colleague).post(reverse("campaigns:cancel", args=[campaign.pk]))

    assert Campaign.objects.get(pk=campaign.pk).status == Status.CANCELLED
    with pytest.raises(ValidationError, match="it is cancelled"):
        approval.campaign_approve(campaign=campaign, user=colleague)
    assert not Message.objects.filter(campaign=campaign).exists()
