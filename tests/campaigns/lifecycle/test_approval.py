"""Launch approval (maker-checker): with the org's switch on, a launched campaign waits for a second person of the
org to approve it before anything is sent."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from campaigns.customers.audience import segment_delete
from campaigns.lifecycle import approval, services
from campaigns.models import Campaign, CampaignEvent, Membership, Org, Segment, User, WhitelistedUrl
from campaigns.sending.supervisor import start_due_campaigns
from delivery.models import Message
from tests.campaigns.lifecycle.approvals import PUBLIC, Kind, Status, _as, _events, _messages, _page, _request
from tests.factories import PASSWORD, MembershipFactory, SegmentFactory, UserFactory, create_campaign, make_customers

pytestmark = pytest.mark.usefixtures("_approval_public_base_url")


def _approve(campaign: Campaign, user: User, capture) -> Campaign:
    with capture(execute=True):
        approval.campaign_approve(campaign=campaign, user=user)
    return Campaign.objects.get(pk=campaign.pk)


# --- With the switch off ---------------------------------------------------------------------------------------------


def test_with_approval_off_a_launch_sends_at_once_and_asks_nobody(
    campaign, manager, colleague, django_capture_on_commit_callbacks
):
    campaign = _request(campaign, manager, django_capture_on_commit_callbacks)

    assert campaign.status == Status.DISPATCHED
    assert Message.objects.filter(campaign=campaign).count() == 10
    assert mail.outbox == []
    assert [kind for kind, _, _ in _events(campaign)] == [Kind.LAUNCHED, Kind.HANDED_OVER]


# --- Asking --------------------------------------------------------------------------------------------------------


def test_a_launch_waits_for_approval_sends_nothing_and_emails_the_other_members(
    approving, campaign, manager, colleague, outsider, django_capture_on_commit_callbacks
):
    # given a pending invitee (who cannot sign in yet) besides the colleague, and another org's manager
    invitee = User.objects.create_user("invited@acme.test")
    MembershipFactory(user=invitee, org=approving)
    client = _as(manager)

    # when the manager presses Launch
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:launch", args=[campaign.pk]), {"confirmed": "1"}, follow=True)

    # then the campaign waits, nothing is prepared, and the manager is told who was asked
    campaign.refresh_from_db()
    assert campaign.status == Status.AWAITING_APPROVAL
    assert campaign.approval_requested_by == manager and campaign.approval_requested_at is not None
    assert campaign.approval_scheduled_at is None and campaign.launched_at is None
    assert not Message.objects.filter(campaign=campaign).exists()
    assert any("Sent for approval" in m and "colleague@acme.test" in m for m in _messages(response))
    # and only the colleague is emailed, with a link on the public address
    [email] = mail.outbox
    assert email.to == ["colleague@acme.test"] and email.from_email == "campaigns@linktrack.localhost"
    assert email.subject == "“Diwali sale” is waiting for your approval (Acme Retail)"
    assert f"{PUBLIC}/campaigns/{campaign.pk}/" in email.body
    assert "manager@acme.test launched the SMS campaign “Diwali sale” of Acme Retail, to send now" in email.body
    assert email.alternatives == []  # plain text
    assert _events(campaign) == [(Kind.APPROVAL_REQUESTED, "manager@acme.test", "to send now")]


def test_launching_again_while_waiting_asks_once(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)
    _request(campaign, manager, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    assert [kind for kind, _, _ in _events(campaign)] == [Kind.APPROVAL_REQUESTED]


def test_a_campaign_that_could_not_launch_is_not_sent_for_approval(
    approving, template, manager, colleague, clock, django_capture_on_commit_callbacks
):
    campaign = create_campaign(template, manager)

    with pytest.raises(ValidationError, match="Choose a time in the future"):
        _request(campaign, manager, django_capture_on_commit_callbacks, scheduled_at=clock.moment - timedelta(hours=1))

    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT and mail.outbox == []


def test_an_org_with_nobody_else_is_told_to_invite_a_colleague(approving, campaign, manager, support):
    response = _as(manager).post(reverse("campaigns:launch", args=[campaign.pk]), {"confirmed": "1"}, follow=True)

    assert any("nobody else in Acme Retail can approve it yet" in m for m in _messages(response))
    assert "Nobody else in Acme Retail can approve it yet" in _page(manager, campaign)
    # and support staff can still approve it
    approval.campaign_approve(campaign=campaign, user=support)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DISPATCHING


# --- Approving -----------------------------------------------------------------------------------------------------


def test_the_requester_cannot_approve_their_own_request(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)

    response = _as(manager).post(reverse("campaigns:approve", args=[campaign.pk]), follow=True)

    assert any("You sent this campaign for approval: another member of Acme Retail" in m for m in _messages(response))
    assert Campaign.objects.get(pk=campaign.pk).status == Status.AWAITING_APPROVAL
    assert not Message.objects.filter(campaign=campaign).exists()


def test_support_staff_approve_others_requests_but_never_their_own(
    approving, campaign, template, manager, support, django_capture_on_commit_callbacks
):
    # given a request by support staff themselves
    own = create_campaign(template, manager, name="Support's own")
    _request(own, support, django_capture_on_commit_callbacks)

    with pytest.raises(ValidationError, match="You sent this campaign for approval"):
        approval.campaign_approve(campaign=own, user=support)

    # while the manager's request is theirs to approve
    _request(campaign, manager, django_capture_on_commit_callbacks)
    assert _approve(campaign, support, django_capture_on_commit_callbacks).status == Status.DISPATCHED


def test_another_member_approves_and_the_messages_go_through_the_simulated_gateway(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        response = _as(colleague).post(reverse("campaigns:approve", args=[campaign.pk]), follow=True)

    campaign.refresh_from_db()
    assert campaign.status == Status.DISPATCHED
    messages = Message.objects.filter(campaign=campaign)
    assert messages.count() == 10 and all(m.gateway_message_id for m in messages)
    assert any(m.startswith("Approved. Campaign launched") for m in _messages(response))
    events = _events(campaign)
    assert events[0] == (Kind.APPROVAL_REQUESTED, "manager@acme.test", "to send now")
    assert events[1][:2] == (Kind.APPROVED, "colleague@acme.test")
    assert events[1][2].startswith("Asked by manager@acme.test on ")
    assert events[2] == (Kind.LAUNCHED, "manager@acme.test", "Sending now")  # the launch stays the requester's
    page = _page(colleague, campaign)
    assert "Approved</strong>: Asked by manager@acme.test" in page and 'id="approval"' not in page


def test_an_approved_schedule_starts_at_the_time_asked_for(
    approving, campaign, manager, colleague, clock, django_capture_on_commit_callbacks
):
    # given a launch asked for 18:00 on the org's clock
    at = clock.moment + timedelta(hours=6)
    _request(campaign, manager, django_capture_on_commit_callbacks, scheduled_at=at)
    assert _events(campaign) == [
        (Kind.APPROVAL_REQUESTED, "manager@acme.test", "to send at 23 Nov 2026 18:00 (Asia/Kolkata)")
    ]
    assert "to send at 23 Nov 2026 18:00 (Asia/Kolkata)" in _page(colleague, campaign)

    # when the colleague approves it at 12:00
    campaign = _approve(campaign, colleague, django_capture_on_commit_callbacks)

    # then it is scheduled for 18:00, and starts then
    assert campaign.status == Status.SCHEDULED and campaign.scheduled_at == at
    assert not Message.objects.filter(campaign=campaign).exists()
    clock.set(2026, 11, 23, 18, 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert start_due_campaigns() == 1
    assert Message.objects.filter(campaign=campaign).count() == 10
    assert [kind for kind, _, _ in _events(campaign)][:3] == [Kind.APPROVAL_REQUESTED, Kind.APPROVED, Kind.SCHEDULED]


def test_a_time_that_passed_while_waiting_is_sent_now_and_the_history_says_so(
    approving, campaign, manager, colleague, clock, django_capture_on_commit_callbacks
):
    _request(campaign, manager, django_capture_on_commit_callbacks, scheduled_at=clock.moment + timedelta(hours=1))
    clock.set(2026, 11, 23, 15, 0)

    campaign = _approve(campaign, colleague, django_capture_on_commit_callbacks)

    assert campaign.status == Status.DISPATCHED and campaign.scheduled_at is None
    assert Message.objects.filter(campaign=campaign).count() == 10
    approved = CampaignEvent.objects.get(campaign=campaign, kind=Kind.APPROVED)
    assert "the time asked for, 23 Nov 2026 13:00, had passed: sent now" in approved.detail


def test_an_approved_recurring_campaign_runs_on_its_schedule(
    approving, template, manager, colleague, clock, django_capture_on_commit_callbacks
):
    campaign = create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="0 10 * * 1")
    _request(campaign, manager, django_capture_on_commit_callbacks)
    assert "to run on the schedule 0 10 * * 1 (Asia/Kolkata)" in _page(colleague, campaign)

    campaign = _approve(campaign, colleague, django_capture_on_commit_callbacks)

    assert campaign.status == Status.ACTIVE and campaign.next_run_at is not None


def test_a_check_that_fails_at_approval_keeps_it_waiting_and_says_why(
    approving, campaign, manager, colleague, django_capture_on_commit_callbacks
):
    # given an org whose links are checked against its whitelist (tracking off: the link is sent as written)
    Org.objects.filter(pk=approving.pk).update(sms_link_tracking=False)
    campaign = Campaign.objects.get(pk=campaign.pk)
    entry = WhitelistedUrl.objects.create(org=approving, url="https://acme.test/", kind="dynamic")
    _request(campaign, manager, django_capture_on_commit_callbacks)
    # when the link leaves the whitelist while the campaign waits
    entry.delete()
    WhitelistedUrl.objects.create(org=approving, url="https://acme.in/", kind="dynamic")

    with django_capture_on_commit_callbacks(execute=True):
        response = _as(colleague).post(reverse("campaigns:approve", args=[campaign.pk]), follow=True)

    # then nothing is sent, the approver reads why, and it still waits
    assert any(
        "The link 'https://acme.test/t' (variable 2) is not on Acme Retail's URL whitelist" in m
        for m in _messages(response)
    )
    assert Campaign.objects.get(pk=campaign.pk).status == Status.AWAITING_APPROVAL
    assert not Message.objects.filter(campaign=campaign).exists()
    assert [kind for kind, _, _ in _events(campaign)] == [Kind.APPROVAL_REQUESTED]


def test_the_audience_of_a_campaign_waiting_for_approval_cannot_be_deleted(
    approving, template, manager, colleague, customers, django_capture_on_commit_callbacks
):
    segment = SegmentFactory(
        org=approving, name="Mumbai", conditions=[{"attribute": "city", "op": "eq", "value": "Mumbai"}]
    )
    campaign = create_campaign(template, manager, audience_segment=segment)
    _request(campaign, manager, django_capture_on_commit_callbacks)

    with pytest.raises(ValidationError, match="Segment “Mumbai” cannot be deleted"):
        segment_delete(segment=segment)

    assert Segment.objects.filter(pk=segment.pk).exists()
    assert Campaign.objects.get(pk=campaign.pk).audience_segment_id == segment.pk


def test_two_approvals_at_the_same_moment_launch_once(postgres, transactional_db, org, template, manager, monkeypatch):
    # given a request and two colleagues ready to approve it
    Org.objects.filter(pk=org.pk).update(launch_needs_approval=True)
    approvers = [UserFactory(email=f"{name}@acme.test", password=PASSWORD) for name in ("asha", "ravi")]
    Membership.objects.bulk_create([Membership(user=user, org=org) for user in approvers])
    make_customers(org, 6)
    campaign = create_campaign(template, manager)
    services.campaign_launch(campaign=campaign, user=manager)
    # both see it waiting (and may decide) before either launches it
    both_checked = threading.Barrier(2, timeout=30)
    checked = approval.decision_refusal

    def decision_refusal(**kwargs) -> str:
        refusal = checked(**kwargs)
        both_checked.wait()
        return refusal

    monkeypatch.setattr(approval, "decision_refusal", decision_refusal)
    outcomes = []

    def approve(user: User) -> None:
        try:
            approval.campaign_approve(campaign=campaign, user=user)
            outcomes.append("approved")
        except ValidationError as refused:
            outcomes.append(" ".join(refused.messages))
        finally:
            connection.close()

    # when both approve at once, in two threads (two database connections)
    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then one launched it and the other was told so; one approval, one launch, one message per customer
    assert len(outcomes) == 2 and outcomes.count("approved") == 1
    [refusal] = [outcome for outcome in outcomes if outcome != "approved"]
    assert refusal.startswith("This campaign is not waiting for approval any more: it is ")
    assert CampaignEvent.objects.filter(campaign=campaign, kind=Kind.APPROVED).count() == 1
    assert CampaignEvent.objects.filter(campaign=campaign, kind=Kind.LAUNCHED).count() == 1
    assert Message.objects.filter(campaign=campaign).count() == 6
