"""Holding a campaign mid-dispatch (paused, or waiting for the promotional window), stopping it, and settling its
credits once it has finished: what dispatch, the supervisor and the manager's actions share."""

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, Sum

from campaigns.base import clock
from campaigns.models import Campaign, Org
from delivery.models import Message

# The reason of a message whose hand-over was cut off (delivery.reasons): it may have been sent, so it is charged.
HANDOVER_CUT_OFF = "handover_cut_off"


def _refund(campaign_id: int, org_id: int, credits: int) -> None:
    if credits:
        Org.objects.filter(pk=org_id).update(credits=F("credits") + credits)
        Campaign.objects.filter(pk=campaign_id).update(credits_charged=F("credits_charged") - credits)


def _unclaimed_queued(campaign_id: int) -> list[tuple[int, int]]:
    """(id, segments) of queued messages no sender holds; a sender claiming one right now keeps it."""
    return list(
        Message.objects.select_for_update(skip_locked=True)
        .filter(campaign_id=campaign_id, status=Message.Status.QUEUED)
        .values_list("pk", "segments")
    )


@transaction.atomic
def campaign_hold(*, campaign_id: int, status: str, reason: str, until: datetime | None = None) -> bool:
    """Pause (or hold until the promotional window opens) a running campaign.

    Queued messages no worker has claimed yet are withdrawn (deleted, their credits given back): resuming
    prepares them again, from where the campaign stopped. Returns False when the campaign was not running.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.status not in (Campaign.Status.DISPATCHING, Campaign.Status.DISPATCHED):
        return False
    withdrawn = _unclaimed_queued(campaign_id)
    if campaign.status == Campaign.Status.DISPATCHED and not withdrawn:
        return False  # everything is already with the gateway: nothing left to pause
    for start in range(0, len(withdrawn), 5000):
        Message.objects.filter(pk__in=[pk for pk, _ in withdrawn[start : start + 5000]]).delete()
    _refund(campaign_id, campaign.org_id, sum(segments for _, segments in withdrawn))
    Campaign.objects.filter(pk=campaign_id).update(
        status=status, hold_reason=reason, scheduled_at=until, dispatched_at=None
    )
    return True


@transaction.atomic
def campaign_stop(*, campaign_id: int) -> bool:
    """Cancel: queued messages no worker has claimed become not sent (campaign_cancelled), credits given back."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if not campaign.can_cancel and campaign.status != Campaign.Status.DISPATCHED:
        return False
    unclaimed = _unclaimed_queued(campaign_id)
    if campaign.status == Campaign.Status.DISPATCHED and not unclaimed:
        return False  # everything is already with the gateway: nothing left to cancel
    for start in range(0, len(unclaimed), 5000):
        Message.objects.filter(pk__in=[pk for pk, _ in unclaimed[start : start + 5000]]).update(
            status=Message.Status.NOT_SENT, reason_code="campaign_cancelled", finished_at=clock.now()
        )
    _refund(campaign_id, campaign.org_id, sum(segments for _, segments in unclaimed))
    Campaign.objects.filter(pk=campaign_id).update(
        status=Campaign.Status.CANCELLED, next_run_at=None, scheduled_at=None, hold_reason=""
    )
    return True


@transaction.atomic
def campaign_settle_credits(*, campaign_id: int) -> int:
    """Once nothing is queued or being submitted, give back the credits of messages the gateway never took.

    Runs once per campaign (claimed by setting credits_settled_at); returns the credits given back.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.credits_settled_at or campaign.status not in (Campaign.Status.DISPATCHED, Campaign.Status.CANCELLED):
        return 0
    messages = Message.objects.filter(campaign_id=campaign_id)
    if messages.filter(status__in=(Message.Status.QUEUED, Message.Status.SUBMITTING)).exists():
        return 0
    # Charged: what the gateway took, and what it may have taken (a hand-over cut off by a dying worker).
    spent = (
        messages.filter(~Q(gateway_message_id="") | Q(reason_code=HANDOVER_CUT_OFF)).aggregate(n=Sum("segments"))["n"]
        or 0
    )
    refund = max(campaign.credits_charged - spent, 0)
    _refund(campaign_id, campaign.org_id, refund)
    Campaign.objects.filter(pk=campaign_id).update(credits_settled_at=clock.now())
    return refund
