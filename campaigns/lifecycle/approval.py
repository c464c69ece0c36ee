"""Launch approval (maker-checker): when an org needs it, a campaign a manager launches waits for a second person of
the org to approve it before anything is sent.

Banks, insurers and other regulated brands require that no message goes out on one person's say. An org switches
this on on its Sending rules page (Org.launch_needs_approval); from then on `services.campaign_launch` (the Launch
button, unchanged) sends a draft for approval instead of launching it:

    draft --launch--> awaiting_approval --approve--> sending / scheduled / recurring, exactly as the launch asked
                                        --reject (with a reason)--> draft, the reason on its page
                                        --withdraw (the requester)--> draft
                                        --cancel--> cancelled, as a scheduled campaign is

Who decides
    Any member of the org other than the requester, or support staff, approves or rejects. The requester never
    does, support staff included: approving one's own request would make the second person the same person. The
    requester withdraws their request instead (and nobody else does: the others reject it, saying why). When the
    requester's account has been deleted, any member or support staff decides.

What is checked
    At the request, every check of a launch (campaign_launch_refusals), so the requester hears of a problem at once;
    at approval, all of them again, since the template, the org's whitelist or the audience may have changed while
    it waited. A campaign that fails them stays waiting, and the approver is told why in words: once fixed (a URL
    whitelisted again, say) it can be approved, or it is rejected so that its requester fixes it. A list or segment
    deleted while it waited is refused too (the campaign would otherwise go to every customer). A time asked for
    that has passed meanwhile is sent at once, and its history says so.

    Credits too: approving a launch the org cannot pay for would send part of the audience and record the rest as
    "not sent: out of credits". The credits needed are the campaign preview's (campaigns.sending.preview, what its page
    shows: one credit per SMS segment as sent, one per email), against the org's credits now; short of them, it
    keeps waiting and the approver reads both numbers. Dispatch still takes credits batch by batch and never
    overspends: this is the estimate, not a reservation.

While it waits
    It cannot be changed or deleted: the approver approves what they saw. Its requester withdraws it, changes it
    and launches it again. Switching the rule off does not launch the campaigns waiting: they are still approved
    (or withdrawn) one by one.

Every transition is a conditional UPDATE on the status inside a transaction with its history event: two approvers
at the same moment launch the campaign once, and an approval racing a withdrawal either launches it or finds it a
draft again.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from campaigns.accounts.team import invitation_is_pending
from campaigns.base import clock
from campaigns.base.history import campaign_event_record, in_org_time
from campaigns.models import Campaign, CampaignEvent, Channel, Membership, Org, User
from campaigns.sending import starts
from campaigns.sending.preview import campaign_preview
from linktrack.common.absolute_urls import public_url

logger = logging.getLogger(__name__)

Status = Campaign.Status
Event = CampaignEvent.Kind
REASON_MAX_LENGTH = 200
# A requested time this close is treated as passed: the supervisor would start it at its next pass anyway, and the
# launch refuses a time that has passed by the moment it runs.
_ABOUT_NOW = timedelta(minutes=1)
REQUEST_SUBJECT = "campaigns/approval_request_subject.txt"
REQUEST_BODY = "campaigns/approval_request_email.txt"
REJECTED_SUBJECT = "campaigns/approval_rejected_subject.txt"
REJECTED_BODY = "campaigns/approval_rejected_email.txt"


def launch_needs_approval(*, campaign: Campaign) -> bool:
    """Whether the campaign's org needs a second person to approve a launch, as the org is now (not as loaded)."""
    return Org.objects.filter(pk=campaign.org_id, launch_needs_approval=True).exists()


# --- Asking --------------------------------------------------------------------------------------------------------


def campaign_approval_request(*, campaign: Campaign, user: User, scheduled_at: datetime | None = None) -> Campaign:
    """Send a draft for approval instead of launching it: checked as a launch is, then waiting for approval with the
    launch it asks for (now, at `scheduled_at`, or on its schedule); the org's other members are emailed. Asking
    twice sends one request."""
    with transaction.atomic():
        moment = clock.now()
        starts.campaign_launch_refusals(campaign=campaign, scheduled_at=scheduled_at, moment=moment)
        asked_for = None if campaign.schedule else scheduled_at
        requested = Campaign.objects.filter(pk=campaign.pk, status=Status.DRAFT).update(
            status=Status.AWAITING_APPROVAL,
            approval_requested_by=user,
            approval_requested_at=moment,
            approval_scheduled_at=asked_for,
            hold_reason="",
        )
        if requested:
            campaign.refresh_from_db()
            campaign_event_record(
                campaign=campaign, kind=Event.APPROVAL_REQUESTED, user=user, detail=launch_in_words(campaign)
            )
            _request_email(campaign=campaign, requester=user)
    campaign.refresh_from_db()
    return campaign


def launch_in_words(campaign: Campaign) -> str:
    """The launch a request asks for, to follow a comma: "to send now", "to send at 3 Dec 2026 10:00 (Asia/Kolkata)",
    "to run on the schedule … (Asia/Kolkata)"."""
    if campaign.schedule:
        return f"to run on the schedule {campaign.schedule} ({campaign.org.timezone})"
    if campaign.approval_scheduled_at:
        return f"to send at {in_org_time(campaign.approval_scheduled_at, campaign)} ({campaign.org.timezone})"
    return "to send now"


def approvers_of(*, campaign: Campaign, requester: User | None) -> list[User]:
    """The org's members who can approve a request of `requester`: everyone who has joined, but the requester."""
    members = User.objects.filter(memberships__org_id=campaign.org_id, is_active=True).order_by("email")
    if requester is not None:
        members = members.exclude(pk=requester.pk)
    return [member for member in members if not invitation_is_pending(member)]


# --- Deciding ------------------------------------------------------------------------------------------------------


def decision_refusal(*, campaign: Campaign, user: User) -> str:
    """Why `user` may not approve or reject the campaign's request, in words; "" when they may."""
    if campaign.status != Status.AWAITING_APPROVAL:
        return _not_waiting(campaign)
    if campaign.approval_requested_by_id == user.pk:
        return (
            f"You sent this campaign for approval: another member of {campaign.org.name} approves it. "
            "To change it, withdraw it."
        )
    if not user.is_staff and not Membership.objects.filter(org_id=campaign.org_id, user=user).exists():
        return f"Only a member of {campaign.org.name} or support staff can approve this campaign."
    return ""


def _not_waiting(campaign: Campaign) -> str:
    if campaign.status == Status.DRAFT:
        return "This campaign is not waiting for approval: it is a draft (its request was withdrawn or rejected)."
    return f"This campaign is not waiting for approval any more: it is {campaign.get_status_display().lower()}."


def _waiting(campaign: Campaign) -> Campaign:
    """The campaign as it is now, with what its checks and history read."""
    return Campaign.objects.select_related("org", "template__sender", "approval_requested_by").get(pk=campaign.pk)


def _refuse(refusal: str) -> None:
    if refusal:
        raise ValidationError(refusal)


def campaign_approve(*, campaign: Campaign, user: User) -> Campaign:
    """Approve a campaign waiting for approval and launch it as asked, after every check of a launch again.

    A time asked for that has passed (or is about to) is sent now, and the history says so. Refused in words when
    `user` may not decide, when a check fails (the campaign keeps waiting), or when someone else decided first."""
    campaign = _waiting(campaign)
    _refuse(decision_refusal(campaign=campaign, user=user))
    if campaign.audience_deleted:
        raise ValidationError(
            f"This campaign was to go to {campaign.audience_description}, which was deleted while it waited: "
            "reject it, so that its audience is chosen again."
        )
    _refuse(credits_shortfall(campaign=campaign))
    moment = clock.now()
    asked_for = campaign.approval_scheduled_at
    details = [
        f"Asked by {_person(campaign.approval_requested_by)} on {in_org_time(campaign.approval_requested_at, campaign)}"
    ]
    if asked_for is not None and asked_for <= moment + _ABOUT_NOW:
        details.append(f"the time asked for, {in_org_time(asked_for, campaign)}, had passed: sent now")
        asked_for = None
    with transaction.atomic():
        campaign_event_record(campaign=campaign, kind=Event.APPROVED, user=user, detail="; ".join(details))
        # The launch is the requester's, as asked; the approval is the approver's.
        launched = starts.campaign_launch_from(
            campaign=campaign,
            user=campaign.approval_requested_by,
            scheduled_at=asked_for,
            status=Status.AWAITING_APPROVAL,
        )
        if not launched:  # decided by someone else meanwhile: the approval event goes with this transaction
            raise ValidationError(_not_waiting(_waiting(campaign)))
    campaign.refresh_from_db()
    return campaign


def credits_shortfall(*, campaign: Campaign) -> str:
    """Why the org cannot pay for the campaign now, in words, with the credits it needs and has; "" when it can.

    A recurring campaign is checked for one run. A template the preview cannot render is left to the launch
    checks, which say what is wrong with it."""
    preview = campaign_preview(campaign=campaign)
    if preview.problems:
        return ""
    needed = preview.credits_after if preview.channel == Channel.SMS else preview.recipients
    available = Org.objects.values_list("credits", flat=True).get(pk=campaign.org_id)
    if needed <= available:
        return ""
    run = " each run" if campaign.schedule else ""
    return (
        f"{campaign.org.name} has {available:,} credits, but this campaign needs {needed:,}{run} "
        f"({preview.recipients:,} {'message' if preview.recipients == 1 else 'messages'}): "
        f"{needed - available:,} more are needed. It keeps waiting: approve it once support has added credits, "
        "or reject it so that its audience is made smaller."
    )


def rejection_reason_clean(reason: str) -> str:
    """The reason as the page and the history show it, or a ValidationError in words."""
    reason = " ".join((reason or "").split())
    if not any(character.isalnum() for character in reason):
        raise ValidationError({"reason": "Say why you do not approve it, so that it can be fixed and sent again."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"Keep the reason to {REASON_MAX_LENGTH} characters (it has {len(reason)})."})
    return reason


def campaign_reject(*, campaign: Campaign, user: User, reason: str) -> Campaign:
    """Send a campaign waiting for approval back to draft, with the reason on its page and in its history; its
    requester is emailed the reason."""
    reason = rejection_reason_clean(reason)
    campaign = _waiting(campaign)
    _refuse(decision_refusal(campaign=campaign, user=user))
    requester = campaign.approval_requested_by
    hold_reason = f"Not approved by {_person(user)}: {reason}"
    with transaction.atomic():
        rejected = _back_to_draft(
            campaign, hold_reason=hold_reason[: Campaign._meta.get_field("hold_reason").max_length]
        )
        if not rejected:
            raise ValidationError(_not_waiting(_waiting(campaign)))
        campaign_event_record(campaign=campaign, kind=Event.REJECTED, user=user, detail=reason)
        if requester is not None and requester.is_active and requester.pk != user.pk:
            _rejection_email(campaign=campaign, requester=requester, rejected_by=user, reason=reason)
    campaign.refresh_from_db()
    return campaign


def withdraw_refusal(*, campaign: Campaign, user: User) -> str:
    """Why `user` may not withdraw the campaign's request, in words; "" when they may."""
    if campaign.status != Status.AWAITING_APPROVAL:
        return _not_waiting(campaign)
    if campaign.approval_requested_by_id != user.pk:
        return "Only who sent it for approval can withdraw it; anyone else approves it or rejects it, saying why."
    return ""


def campaign_withdraw(*, campaign: Campaign, user: User) -> Campaign:
    """The requester takes their request back: the campaign is a draft again, to change and launch again."""
    campaign = _waiting(campaign)
    _refuse(withdraw_refusal(campaign=campaign, user=user))
    with transaction.atomic():
        if not _back_to_draft(campaign, hold_reason=""):
            raise ValidationError(_not_waiting(_waiting(campaign)))
        campaign_event_record(campaign=campaign, kind=Event.WITHDRAWN, user=user)
    campaign.refresh_from_db()
    return campaign


def _back_to_draft(campaign: Campaign, *, hold_reason: str) -> bool:
    """Claimed on the status: of a rejection, a withdrawal and an approval at once, one happens."""
    return bool(
        Campaign.objects.filter(pk=campaign.pk, status=Status.AWAITING_APPROVAL).update(
            status=Status.DRAFT,
            hold_reason=hold_reason,
            approval_requested_by=None,
            approval_requested_at=None,
            approval_scheduled_at=None,
        )
    )


def _person(user: User | None) -> str:
    return user.email if user is not None else "a deleted user"


# --- The campaign page ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRequest:
    """A campaign's request for approval as its page shows it to one person."""

    requested_by: str
    requested_at: str  # on the org's clock
    launch: str  # "to send now", "to send at …"
    decision_refusal: str  # why this person may not approve or reject it; "" when they may
    may_withdraw: bool
    approvers: int  # the org's members who can approve it (support staff too, always)

    @property
    def may_decide(self) -> bool:
        return not self.decision_refusal


def approval_request_on_page(*, campaign: Campaign, user: User) -> ApprovalRequest | None:
    """The request of a campaign waiting for approval, for `user`; None for any other campaign."""
    if campaign.status != Status.AWAITING_APPROVAL:
        return None
    requester = campaign.approval_requested_by
    return ApprovalRequest(
        requested_by=_person(requester),
        requested_at=in_org_time(campaign.approval_requested_at, campaign),
        launch=launch_in_words(campaign),
        decision_refusal=decision_refusal(campaign=campaign, user=user),
        may_withdraw=not withdraw_refusal(campaign=campaign, user=user),
        approvers=len(approvers_of(campaign=campaign, requester=requester)),
    )


# --- Emails --------------------------------------------------------------------------------------------------------


def _campaign_link(campaign: Campaign) -> str:
    return public_url(reverse("campaigns:detail", kwargs={"pk": campaign.pk}))


def _request_email(*, campaign: Campaign, requester: User) -> None:
    """Email the org's other members, after commit, that the campaign waits for one of them."""
    recipients = [member.email for member in approvers_of(campaign=campaign, requester=requester)]
    if not recipients:
        return
    context = {
        "requester": requester.email,
        "org_name": campaign.org.name,
        "campaign_name": campaign.name,
        "channel": campaign.template.get_channel_display(),
        "template_name": campaign.template.name,
        "audience": campaign.audience_in_words if campaign.kind != Campaign.Kind.RESEND else "",
        "launch": launch_in_words(campaign),
        "link": _campaign_link(campaign),
    }
    subject = " ".join(render_to_string(REQUEST_SUBJECT, context).split())
    body = render_to_string(REQUEST_BODY, context)
    transaction.on_commit(partial(_send, subject=subject, body=body, recipients=recipients))


def _rejection_email(*, campaign: Campaign, requester: User, rejected_by: User, reason: str) -> None:
    context = {
        "rejected_by": rejected_by.email,
        "org_name": campaign.org.name,
        "campaign_name": campaign.name,
        "reason": reason,
        "link": _campaign_link(campaign),
    }
    subject = " ".join(render_to_string(REJECTED_SUBJECT, context).split())
    body = render_to_string(REJECTED_BODY, context)
    transaction.on_commit(partial(_send, subject=subject, body=body, recipients=[requester.email]))


def _send(*, subject: str, body: str, recipients: list[str]) -> None:
    """One email per person (colleagues need not see who else was asked); one failure does not stop the others."""
    for recipient in recipients:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
        except OSError:  # smtplib's errors included: the request stands, and the campaign page shows it
            logger.exception("The approval email to %s could not be sent", recipient)
