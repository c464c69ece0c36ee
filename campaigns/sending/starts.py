"""Starting a campaign: a launch (now, at a time, or on a schedule), a scheduled campaign whose time has come, the
due run of a recurring campaign. Each is checked again first and claimed with a conditional UPDATE, so two
processes at once start one dispatch."""

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.base import clock
from campaigns.base.history import campaign_event_record, in_org_time
from campaigns.customers.audience import audience_customers
from campaigns.customers.campaign_audience import campaign_audience
from campaigns.dlt import trai
from campaigns.dlt.completeness import template_incomplete_problem
from campaigns.dlt.rendering import template_campaign_problems
from campaigns.models import Campaign, CampaignEvent, User
from campaigns.sending.tasks import campaign_dispatch_task
from delivery.models import Message

Event = CampaignEvent.Kind


def next_run_after(*, schedule: str, moment: datetime, tz: str) -> datetime:
    """The next time a cron schedule fires after `moment`, read in the org's time zone."""
    return croniter(schedule, moment.astimezone(ZoneInfo(tz))).get_next(datetime)


def campaign_start_problems(*, campaign: Campaign) -> list[str]:
    """Why this campaign must not start now, in words: what operators would block (a template without its sender or
    DLT template id, DLT template match, links not whitelisted on DLT, public shorteners) or what cannot be tracked. Checked at launch and again at each start,
    since the org, its whitelist or the template may have changed since. An org that has recorded no whitelist is
    only warned (see trai.campaign_launch_warnings): there is nothing to check its links against."""
    incomplete = template_incomplete_problem(campaign.template)
    if incomplete:
        return [incomplete]
    problems = template_campaign_problems(
        org=campaign.org, template=campaign.template, slot_values=campaign.slot_values
    )
    return [str(problem) for problem in problems] or [f.message for f in trai.campaign_refusals(campaign=campaign)]


def audience_size(campaign: Campaign) -> int:
    """How many customers the campaign goes to as of now (one count), for its page's progress from the start."""
    return campaign_audience(campaign).count()


def campaign_launch_refusals(*, campaign: Campaign, scheduled_at: datetime | None, moment: datetime) -> None:
    """Refuse, in words, a launch that must not happen: what campaign_start_problems finds, an audience that cannot
    be evaluated, a time already passed."""
    problems = campaign_start_problems(campaign=campaign)
    if problems:
        raise ValidationError(problems)
    audience_customers(campaign=campaign)  # a segment that cannot be evaluated is refused here, in words
    if not campaign.schedule and scheduled_at is not None and scheduled_at <= moment:
        raise ValidationError({"scheduled_at": "Choose a time in the future, or send now."})


@transaction.atomic
def campaign_launch_from(*, campaign: Campaign, user: User, scheduled_at: datetime | None, status: str) -> bool:
    """Launch a campaign that is in `status` (a draft; one waiting for approval, once approved): checked, then
    claimed with a conditional UPDATE on that status, so two launches at once start one dispatch. Returns whether
    this call launched it."""
    moment = clock.now()
    campaign_launch_refusals(campaign=campaign, scheduled_at=scheduled_at, moment=moment)
    waiting = Campaign.objects.filter(pk=campaign.pk, status=status)
    if campaign.schedule:
        next_run_at = next_run_after(schedule=campaign.schedule, moment=moment, tz=campaign.org.timezone)
        if waiting.update(status=Campaign.Status.ACTIVE, launched_at=moment, next_run_at=next_run_at, hold_reason=""):
            detail = f"Runs on the schedule {campaign.schedule}; the first at {in_org_time(next_run_at, campaign)}"
            campaign_event_record(campaign=campaign, kind=Event.LAUNCHED, user=user, detail=detail)
            return True
    elif scheduled_at is not None:
        if waiting.update(
            status=Campaign.Status.SCHEDULED,
            scheduled_at=scheduled_at,
            hold_reason="",
            audience_size=audience_size(campaign),
        ):
            detail = f"To be sent at {in_org_time(scheduled_at, campaign)} ({campaign.org.timezone})"
            campaign_event_record(campaign=campaign, kind=Event.SCHEDULED, user=user, detail=detail)
            return True
    elif waiting.update(
        status=Campaign.Status.DISPATCHING,
        launched_at=moment,
        heartbeat_at=moment,
        hold_reason="",
        audience_size=audience_size(campaign),
    ):
        campaign_event_record(campaign=campaign, kind=Event.LAUNCHED, user=user, detail="Sending now")
        transaction.on_commit(lambda: campaign_dispatch_task.delay(campaign.pk))
        return True
    return False


@transaction.atomic
def campaign_scheduled_start(*, campaign_id: int) -> bool:
    """Start a scheduled campaign whose time has come; False when another process did, or it is not due.

    It is checked again first, since the org, its whitelist or the template may have changed meanwhile. When it
    would now break a rule, one that never started goes back to draft with the reason on its page, for the manager
    to fix and launch again; one held for the promotional window has sent part of its audience, so it is paused
    with the reason instead, to be resumed once fixed."""
    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("org", "template").get(pk=campaign_id)
    moment = clock.now()
    if campaign.status != Campaign.Status.SCHEDULED or not campaign.scheduled_at or campaign.scheduled_at > moment:
        return False
    problems = campaign_start_problems(campaign=campaign)
    if problems:
        planned = campaign.scheduled_at.astimezone(ZoneInfo(campaign.org.timezone))
        if campaign.launched_at:
            status, reason = (
                Campaign.Status.PAUSED,
                f"Not continued at {planned:%-d %b %Y %H:%M}; fix this, then resume",
            )
        else:
            status, reason = (
                Campaign.Status.DRAFT,
                f"Not sent at {planned:%-d %b %Y %H:%M} as planned; fix this, then launch it again",
            )
        hold_reason = f"{reason}: {problems[0]}"[: Campaign._meta.get_field("hold_reason").max_length]
        Campaign.objects.filter(pk=campaign.pk).update(status=status, scheduled_at=None, hold_reason=hold_reason)
        kind = Event.AUTO_PAUSED if status == Campaign.Status.PAUSED else Event.NOT_STARTED
        campaign_event_record(campaign=campaign, kind=kind, detail=hold_reason)
        return False
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.DISPATCHING,
        hold_reason="",
        scheduled_at=None,
        heartbeat_at=moment,
        launched_at=campaign.launched_at or moment,
        # The audience of now, which it is sent to; a held campaign continuing keeps the one it started with.
        audience_size=campaign.audience_size if campaign.launched_at else audience_size(campaign),
    )
    detail = "Continuing where it stopped" if campaign.launched_at else "At its scheduled time"
    campaign_event_record(campaign=campaign, kind=Event.STARTED, detail=detail)
    transaction.on_commit(lambda: campaign_dispatch_task.delay(campaign.pk))
    return True


@transaction.atomic
def campaign_run_start(*, parent_id: int) -> Campaign | None:
    """Start the due run of a recurring campaign as a child campaign with its own messages and report.

    A run never overlaps the previous one: while the last run still has messages to hand over, the new one
    waits (and starts at the next supervisor pass after it finished).
    """
    parent = Campaign.objects.select_for_update(of=("self",)).select_related("org", "template").get(pk=parent_id)
    moment = clock.now()
    if parent.status != Campaign.Status.ACTIVE or not parent.next_run_at or parent.next_run_at > moment:
        return None
    running = (
        parent.runs.filter(
            status__in=(Campaign.Status.DISPATCHING, Campaign.Status.PAUSED, Campaign.Status.SCHEDULED)
        ).exists()
        or Message.objects.filter(
            campaign__parent=parent, status__in=(Message.Status.QUEUED, Message.Status.SUBMITTING)
        ).exists()
    )
    if running:
        return None
    next_run_at = next_run_after(schedule=parent.schedule, moment=moment, tz=parent.org.timezone)
    # The org or template may have changed since launch (e.g. link tracking switched on): check every run.
    problems = campaign_start_problems(campaign=parent)
    if problems:
        when = moment.astimezone(ZoneInfo(parent.org.timezone))
        reason = f"The run of {when:%-d %b %Y %H:%M} was skipped: {problems[0]}"
        Campaign.objects.filter(pk=parent.pk).update(
            next_run_at=next_run_at, hold_reason=reason[: Campaign._meta.get_field("hold_reason").max_length]
        )
        campaign_event_record(campaign=parent, kind=Event.RUN_SKIPPED, detail=reason)
        return None
    number = parent.runs.count() + 1
    local = moment.astimezone(ZoneInfo(parent.org.timezone))
    run = Campaign.objects.create(
        org=parent.org,
        name=f"{parent.name} · run {number} ({local:%-d %b %Y %H:%M})"[:200],
        kind=parent.kind,
        template_id=parent.template_id,
        slot_values=parent.slot_values,
        utm_params=parent.utm_params,
        links_expire_at=parent.links_expire_at,
        expired_link_url=parent.expired_link_url,
        audience_list_id=parent.audience_list_id,
        audience_segment_id=parent.audience_segment_id,
        audience_description=parent.audience_description,
        coupon_days=parent.coupon_days,
        parent=parent,
        created_by_id=parent.created_by_id,
        status=Campaign.Status.DISPATCHING,
        launched_at=moment,
        heartbeat_at=moment,
    )
    Campaign.objects.filter(pk=run.pk).update(audience_size=audience_size(run))
    Campaign.objects.filter(pk=parent.pk).update(next_run_at=next_run_at, hold_reason="")
    campaign_event_record(campaign=parent, kind=Event.RUN_STARTED, detail=f"“{run.name}”")
    campaign_event_record(
        campaign=run, kind=Event.RUN_STARTED, detail=f"Run {number} of “{parent.name}”, on its schedule"
    )
    transaction.on_commit(lambda: campaign_dispatch_task.delay(run.pk))
    return run
