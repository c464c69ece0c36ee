"""The campaign supervisor: a periodic pass that keeps running campaigns moving and honest.

Each pass takes a bounded number of campaigns per step and is safe to run twice or concurrently (every change
is claimed with a conditional UPDATE or a row lock):
- starts one-time campaigns whose time came and held promotional campaigns whose window opened;
- starts due runs of recurring campaigns (never overlapping the previous run);
- restarts the dispatch of a campaign whose dispatcher stopped reporting (its worker died);
- re-queues send tasks for messages queued long ago (a send task lost with its worker);
- recovers messages left "submitting" by a worker that died while handing them to the gateway;
- does the same for tests sent from a preview, whose messages the rest leaves out;
- pauses a campaign whose gateway error rate passes the limit;
- gives back the credits of messages a finished campaign never handed over.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q

from campaigns.base import clock
from campaigns.base.history import campaign_event_record, in_org_time
from campaigns.models import Campaign, CampaignEvent
from campaigns.sending import dispatch, holds, starts
from campaigns.sending.tasks import campaign_dispatch_task
from campaigns.sending.test_sends import proofs_recover
from delivery.gateways import Exchange, SimulatedGateway, gateway_config_for, gateway_for
from delivery.models import Message
from delivery.services import exchanges_log
from delivery.tasks import messages_send_task

logger = logging.getLogger(__name__)
STEP_LIMIT = 100
MESSAGE_LIMIT = 20_000
RUNNING = (Campaign.Status.DISPATCHING, Campaign.Status.DISPATCHED)


def campaigns_supervise() -> dict[str, int]:
    return {
        "started": start_due_campaigns(),
        "runs": start_due_runs(),
        "restarted": restart_stale_dispatches(),
        "requeued": requeue_stale_queued(),
        "recovered": recover_stale_submitting(),
        "tests_recovered": proofs_recover(),
        "paused": pause_failing_campaigns(),
        "settled": settle_finished_campaigns(),
    }


def start_due_campaigns() -> int:
    due = Campaign.objects.filter(status=Campaign.Status.SCHEDULED, scheduled_at__lte=clock.now()).values_list(
        "pk", flat=True
    )[:STEP_LIMIT]
    return sum(starts.campaign_scheduled_start(campaign_id=campaign_id) for campaign_id in list(due))


def start_due_runs() -> int:
    due = Campaign.objects.filter(status=Campaign.Status.ACTIVE, next_run_at__lte=clock.now()).values_list(
        "pk", flat=True
    )[:STEP_LIMIT]
    return sum(starts.campaign_run_start(parent_id=parent_id) is not None for parent_id in list(due))


def restart_stale_dispatches() -> int:
    moment = clock.now()
    cutoff = moment - timedelta(seconds=settings.DISPATCH_STALE_SECONDS)
    stale = Campaign.objects.filter(status=Campaign.Status.DISPATCHING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )
    restarted = 0
    for campaign in list(
        stale.select_related("org").only("heartbeat_at", "dispatch_tries", "org__timezone")[:STEP_LIMIT]
    ):
        campaign_id, heartbeat_at = campaign.pk, campaign.heartbeat_at
        if campaign.dispatch_tries >= settings.DISPATCH_MAX_TRIES:
            # Each of the last tries stopped before a batch was done (its worker died, or it failed and said so).
            why = (
                f"the worker preparing its messages stopped {campaign.dispatch_tries} times in a row before "
                "preparing any"
            )
            dispatch.campaign_dispatch_give_up(campaign=campaign, why=why)
            continue
        # Claimed on the heartbeat seen, so two supervisors restart it once; the dispatch resumes where it stopped.
        with transaction.atomic():
            claimed = Campaign.objects.filter(pk=campaign_id, heartbeat_at=heartbeat_at).update(heartbeat_at=moment)
            if claimed:
                silent = (
                    f"stopped reporting at {in_org_time(heartbeat_at, campaign)}" if heartbeat_at else "never reported"
                )
                campaign_event_record(
                    campaign=campaign,
                    kind=CampaignEvent.Kind.DISPATCH_RESTARTED,
                    detail=f"The worker preparing its messages {silent}; another continues where it stopped, "
                    "without sending anything twice",
                )
        if claimed:
            logger.warning(
                "campaign %s: dispatcher silent since %s, restarting its dispatch", campaign_id, heartbeat_at
            )
            campaign_dispatch_task.delay(campaign_id)
            restarted += 1
    return restarted


def requeue_stale_queued() -> int:
    """Send tasks again for messages queued long ago. Harmless if the first task still runs: sending claims."""
    moment = clock.now()
    cutoff = moment - timedelta(seconds=settings.QUEUED_STALE_SECONDS)
    campaign_ids = (
        Message.objects.filter(status=Message.Status.QUEUED, created_at__lt=cutoff, campaign__status__in=RUNNING)
        .values_list("campaign_id", flat=True)
        .distinct()[:STEP_LIMIT]
    )
    requeued = 0
    for campaign_id in list(campaign_ids):
        key = f"campaigns:requeued:{campaign_id}"
        if not cache.add(key, 1, timeout=settings.QUEUED_STALE_SECONDS):
            continue  # re-queued recently; give those tasks time to run
        ids = list(
            Message.objects.filter(campaign_id=campaign_id, status=Message.Status.QUEUED, created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:MESSAGE_LIMIT]
        )
        size = settings.DISPATCH_SEND_TASK_SIZE or settings.DISPATCH_BATCH_SIZE
        for start in range(0, len(ids), size):
            messages_send_task.delay(ids[start : start + size])
        requeued += len(ids)
    return requeued


def _gateway_deduplicates(gateway) -> bool:
    """Whether handing the same message to the gateway again cannot make a second SMS.

    The simulated gateway's id is derived from our message id; a real adapter says so with
    `deduplicates_message_ids = True` when its gateway drops a repeated client reference.
    """
    return bool(getattr(gateway, "deduplicates_message_ids", isinstance(gateway, SimulatedGateway)))


def recover_stale_submitting() -> int:
    """Messages "submitting" for longer than SUBMITTING_STALE_SECONDS: their worker died mid hand-over.

    We cannot know whether the gateway took them. When it de-duplicates by our message id they go back to queued
    (a second hand-over cannot make a second SMS); otherwise their outcome is unknown, "may have been sent"
    (handover_cut_off): charged, and never offered for a resend, because sending again could deliver twice. Either
    way the gateway log of each says that a hand-over was cut off, so a second one is never hidden.
    The age is measured by watching: a message is stale once seen submitting on passes that far apart.
    """
    moment = clock.now()
    threshold = settings.SUBMITTING_STALE_SECONDS
    campaign_ids = (
        Message.objects.filter(status=Message.Status.SUBMITTING).values_list("campaign_id", flat=True).distinct()
    )
    recovered = 0
    for campaign_id in list(campaign_ids[:STEP_LIMIT]):
        key = f"campaigns:submitting:{campaign_id}"
        first_seen = cache.get(key) or {}
        current = Message.objects.filter(campaign_id=campaign_id, status=Message.Status.SUBMITTING).values_list(
            "pk", flat=True
        )[:MESSAGE_LIMIT]
        seen = {pk: first_seen.get(pk, moment.timestamp()) for pk in current}
        stale = [pk for pk, at in seen.items() if moment.timestamp() - at >= threshold]
        if stale:
            recovered += _recover(Campaign.objects.select_related("template").get(pk=campaign_id), stale)
        cache.set(key, {pk: at for pk, at in seen.items() if pk not in stale}, timeout=threshold * 10 + 600)
    return recovered


def _recover(campaign: Campaign, message_ids: list[int]) -> int:
    stuck = Message.objects.filter(pk__in=message_ids, status=Message.Status.SUBMITTING)
    config = gateway_config_for(org_id=campaign.org_id, channel=campaign.template.channel)
    gateway = gateway_for(org_id=campaign.org_id, channel=campaign.template.channel)
    again = _gateway_deduplicates(gateway)
    with transaction.atomic():
        ids = list(stuck.select_for_update(skip_locked=True).values_list("pk", flat=True))
        moment = clock.now()
        if again:
            count = Message.objects.filter(pk__in=ids).update(status=Message.Status.QUEUED, updated_at=moment)
            what = "handed over again: the gateway drops a message whose id it has already taken"
        else:
            count = Message.objects.filter(pk__in=ids).update(
                status=Message.Status.UNKNOWN, reason_code=holds.HANDOVER_CUT_OFF, finished_at=moment, updated_at=moment
            )
            what = "it may have been sent, so it is not sent again"
        error = (
            "hand-over cut off: the worker handing this message to the gateway stopped before recording its "
            f"answer; {what}"
        )
        exchanges_log(
            config=config, gateway_kind=gateway.name, exchanges=[(pk, Exchange("submit", error=error)) for pk in ids]
        )
    if again:
        size = settings.DISPATCH_SEND_TASK_SIZE or settings.DISPATCH_BATCH_SIZE
        for start in range(0, len(ids), size):
            messages_send_task.delay(ids[start : start + size])
        logger.warning("campaign %s: %s messages stuck submitting were queued again", campaign.pk, count)
    else:
        logger.warning("campaign %s: %s messages stuck submitting may have been sent", campaign.pk, count)
    return count


def pause_failing_campaigns() -> int:
    """Pause a running campaign when the share of gateway refusals since launch or resume passes the limit."""
    paused = 0
    running = Campaign.objects.filter(status__in=RUNNING, credits_settled_at__isnull=True)
    for campaign in list(running[:STEP_LIMIT]):
        since = campaign.resumed_at or campaign.launched_at
        if since is None:
            continue
        figures = Message.objects.filter(campaign=campaign).aggregate(
            failed=Count(
                "pk",
                filter=Q(status=Message.Status.NOT_SENT, reason_code__startswith="gateway_", finished_at__gte=since),
            ),
            accepted=Count("pk", filter=Q(sent_at__gte=since)),
        )
        attempts = figures["failed"] + figures["accepted"]
        if attempts < settings.AUTO_PAUSE_MIN_MESSAGES:
            continue
        rate = figures["failed"] / attempts
        if rate <= settings.AUTO_PAUSE_ERROR_RATE:
            continue
        why = (
            f"the gateway refused {figures['failed']} of the last {attempts} messages "
            f"({rate:.0%}, the limit is {settings.AUTO_PAUSE_ERROR_RATE:.0%}). Check the gateway, then resume."
        )
        reason = f"Paused automatically: {why}"
        with transaction.atomic():
            held = holds.campaign_hold(campaign_id=campaign.pk, status=Campaign.Status.PAUSED, reason=reason)
            if held:
                campaign_event_record(campaign=campaign, kind=CampaignEvent.Kind.AUTO_PAUSED, detail=why)
        if held:
            logger.warning("campaign %s: %s", campaign.pk, reason)
            paused += 1
    return paused


def settle_finished_campaigns() -> int:
    finished = Campaign.objects.filter(
        status__in=(Campaign.Status.DISPATCHED, Campaign.Status.CANCELLED), credits_settled_at__isnull=True
    ).values_list("pk", flat=True)[:STEP_LIMIT]
    settled = 0
    for campaign_id in list(finished):
        holds.campaign_settle_credits(campaign_id=campaign_id)
        settled += 1
    return settled
