"""Business operations on campaigns. Views and tasks call these; they hold no logic themselves."""

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from campaigns import dispatch, trai
from campaigns.audience import audience_customers
from campaigns.base import clock
from campaigns.base.history import campaign_event_record, in_org_time
from campaigns.models import Campaign, CampaignEvent, CustomerList, Org, Segment, Template, User
from campaigns.rendering import template_campaign_problems
from campaigns.tasks import campaign_dispatch_task
from delivery.models import Message
from delivery.reasons import REASONS

# Never offered for a resend: the recipient asked not to be reached, or the regulator forbids it.
NEVER_RESEND = frozenset({"ndnc", "ndnc_precheck", "unsubscribed", "validation_failed", "campaign_cancelled"})
# What a manager may change on a draft, in the words its history uses.
_SETUP_WORDS = {
    "name": "name",
    "slot_values": "variables",
    "kind": "type",
    "schedule": "schedule",
    "coupon_days": "coupon days",
    "audience_list_id": "audience",
    "audience_segment_id": "audience",
}
Event = CampaignEvent.Kind
# Approvers approve what they saw: a campaign waiting for approval is changed only after its request is withdrawn.
AWAITING_APPROVAL_UNCHANGED = "This campaign is waiting for approval: withdraw it first, then change it."


def next_run_after(*, schedule: str, moment: datetime, tz: str) -> datetime:
    """The next time a cron schedule fires after `moment`, read in the org's time zone."""
    return croniter(schedule, moment.astimezone(ZoneInfo(tz))).get_next(datetime)


def _check_schedule(schedule: str) -> None:
    if not croniter.is_valid(schedule):
        raise ValidationError(
            {
                "schedule": f"'{schedule}' is not a valid schedule. Use five fields: minute hour day month weekday, "
                "for example '0 10 * * 1' for every Monday at 10:00."
            }
        )


@transaction.atomic
def campaign_create(
    *,
    org: Org,
    user: User,
    name: str,
    template: Template,
    slot_values: list[dict],
    kind: str = Campaign.Kind.ONE_TIME,
    schedule: str = "",
    coupon_days: int | None = None,
    audience_list: CustomerList | None = None,
    audience_segment: Segment | None = None,
) -> Campaign:
    if template.org_id != org.pk:
        raise ValidationError("This template belongs to another organisation.")
    campaign = Campaign(org=org, template=template, created_by=user)
    _save_setup(
        campaign,
        name=name,
        slot_values=slot_values,
        kind=kind,
        schedule=schedule,
        coupon_days=coupon_days,
        audience_list=audience_list,
        audience_segment=audience_segment,
    )
    campaign_event_record(campaign=campaign, kind=Event.CREATED, user=user, detail=_setup_in_words(campaign))
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    user: User,
    name: str,
    slot_values: list[dict],
    kind: str = Campaign.Kind.ONE_TIME,
    schedule: str = "",
    coupon_days: int | None = None,
    audience_list: CustomerList | None = None,
    audience_segment: Segment | None = None,
) -> Campaign:
    """Change a draft (its template stays: a different template is a different campaign)."""
    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("org", "template").get(pk=campaign.pk)
    if campaign.status == Campaign.Status.AWAITING_APPROVAL:
        raise ValidationError(AWAITING_APPROVAL_UNCHANGED)
    if campaign.status != Campaign.Status.DRAFT or campaign.kind == Campaign.Kind.RESEND:
        raise ValidationError("Only a campaign that has not been launched can be changed (a resend: delete it and "
                              "make it again from its campaign).")  # fmt: skip
    before = {field: getattr(campaign, field) for field in _SETUP_WORDS}
    _save_setup(
        campaign,
        name=name,
        slot_values=slot_values,
        kind=kind,
        schedule=schedule,
        coupon_days=coupon_days,
        audience_list=audience_list,
        audience_segment=audience_segment,
    )
    changed = dict.fromkeys(words for field, words in _SETUP_WORDS.items() if getattr(campaign, field) != before[field])
    if changed:
        campaign_event_record(campaign=campaign, kind=Event.EDITED, user=user, detail=", ".join(changed))
    return campaign


def _setup_in_words(campaign: Campaign) -> str:
    """'One-time, to list Diwali': what a new campaign is, for its history."""
    schedule = f" ({campaign.schedule})" if campaign.schedule else ""
    return f"{campaign.get_kind_display()}{schedule}, to {campaign.audience_description}"


def _save_setup(campaign: Campaign, **fields) -> Campaign:
    """Check what a manager chose for a campaign (name, variables, type, schedule, audience), then save it."""
    for field, value in fields.items():
        setattr(campaign, field, value)
    for chosen in (campaign.audience_list, campaign.audience_segment):
        if chosen is not None and chosen.org_id != campaign.org_id:
            raise ValidationError("This audience belongs to another organisation.")
    if campaign.kind == Campaign.Kind.RECURRING and not campaign.schedule:
        raise ValidationError({"schedule": "A recurring campaign needs a schedule."})
    if campaign.kind == Campaign.Kind.COUPON_REMINDER and campaign.coupon_days is None:
        raise ValidationError({"coupon_days": "Say how many days before a coupon expires the reminder goes out."})
    if campaign.kind == Campaign.Kind.RESEND:
        raise ValidationError("A resend is made from a finished campaign's page.")
    if campaign.schedule:
        _check_schedule(campaign.schedule)
    _refuse_problems(org=campaign.org, template=campaign.template, slot_values=campaign.slot_values)
    campaign.audience_description = Campaign.describe_audience(campaign.audience_list, campaign.audience_segment)
    if campaign.kind != Campaign.Kind.COUPON_REMINDER:
        campaign.coupon_days = None
    campaign.full_clean()
    campaign.save()
    return campaign


def campaign_delete(*, campaign: Campaign, user: User) -> bool:
    """Delete a draft; a launched campaign keeps its messages and report. False when it is not a draft."""
    deleted, _ = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DRAFT).delete()
    return bool(deleted)


def _refuse_problems(*, org: Org, template: Template, slot_values: list[dict]) -> None:
    """Refuse what operators would block (DLT) or what cannot be tracked, with every reason in words."""
    problems = template_campaign_problems(org=org, template=template, slot_values=slot_values)
    if problems:
        raise ValidationError([str(p) for p in problems])


def campaign_start_problems(*, campaign: Campaign) -> list[str]:
    """Why this campaign must not start now, in words: what operators would block (DLT template match, links not
    whitelisted on DLT, public shorteners) or what cannot be tracked. Checked at launch and again at each start,
    since the org, its whitelist or the template may have changed since. An org that has recorded no whitelist is
    only warned (see trai.campaign_launch_warnings): there is nothing to check its links against."""
    problems = template_campaign_problems(
        org=campaign.org, template=campaign.template, slot_values=campaign.slot_values
    )
    return [str(problem) for problem in problems] or [f.message for f in trai.campaign_refusals(campaign=campaign)]


def campaign_launch(*, campaign: Campaign, user: User, scheduled_at: datetime | None = None) -> Campaign:
    """Start sending now, at `scheduled_at`, or (recurring) on its schedule. Launching twice starts one dispatch.

    When the org needs launches approved (Org.launch_needs_approval), the campaign waits for a second person of the
    org instead, and is launched as asked once approved (campaigns.approval)."""
    from campaigns import approval  # approval launches through this module

    if approval.launch_needs_approval(campaign=campaign):
        return approval.campaign_approval_request(campaign=campaign, user=user, scheduled_at=scheduled_at)
    campaign_launch_from(campaign=campaign, user=user, scheduled_at=scheduled_at, status=Campaign.Status.DRAFT)
    campaign.refresh_from_db()
    return campaign


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
        if waiting.update(status=Campaign.Status.SCHEDULED, scheduled_at=scheduled_at, hold_reason=""):
            detail = f"To be sent at {in_org_time(scheduled_at, campaign)} ({campaign.org.timezone})"
            campaign_event_record(campaign=campaign, kind=Event.SCHEDULED, user=user, detail=detail)
            return True
    elif waiting.update(status=Campaign.Status.DISPATCHING, launched_at=moment, heartbeat_at=moment, hold_reason=""):
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
    )
    detail = "Continuing where it stopped" if campaign.launched_at else "At its scheduled time"
    campaign_event_record(campaign=campaign, kind=Event.STARTED, detail=detail)
    transaction.on_commit(lambda: campaign_dispatch_task.delay(campaign.pk))
    return True


@transaction.atomic
def campaign_pause(*, campaign: Campaign, user: User) -> bool:
    paused = dispatch.campaign_hold(
        campaign_id=campaign.pk, status=Campaign.Status.PAUSED, reason=f"Paused by {user.email}."
    )
    if paused:
        campaign_event_record(campaign=campaign, kind=Event.PAUSED, user=user)
    return paused


def campaign_resume(*, campaign: Campaign, user: User) -> bool:
    """Continue a paused campaign from where it stopped (messages already handed over are not sent again).

    Refused, in words, while the campaign would break a rule that appeared since it was paused (its template, the
    org's link tracking or its DLT URL whitelist changed)."""
    if campaign.status == Campaign.Status.PAUSED:
        problems = campaign_start_problems(campaign=campaign)
        if problems:
            raise ValidationError(problems)
    with transaction.atomic():
        moment = clock.now()
        resumed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.PAUSED).update(
            status=Campaign.Status.DISPATCHING, hold_reason="", resumed_at=moment, heartbeat_at=moment
        )
        if resumed:
            campaign_event_record(campaign=campaign, kind=Event.RESUMED, user=user)
            transaction.on_commit(lambda: campaign_dispatch_task.delay(campaign.pk))
    return bool(resumed)


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, user: User) -> bool:
    cancelled = dispatch.campaign_stop(campaign_id=campaign.pk)
    if cancelled:
        detail = "The schedule was stopped: no more runs" if campaign.is_recurring else ""
        campaign_event_record(campaign=campaign, kind=Event.CANCELLED, user=user, detail=detail)
    return cancelled


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
    Campaign.objects.filter(pk=parent.pk).update(next_run_at=next_run_at, hold_reason="")
    campaign_event_record(campaign=parent, kind=Event.RUN_STARTED, detail=f"“{run.name}”")
    campaign_event_record(
        campaign=run, kind=Event.RUN_STARTED, detail=f"Run {number} of “{parent.name}”, on its schedule"
    )
    transaction.on_commit(lambda: campaign_dispatch_task.delay(run.pk))
    return run


def resend_options(*, source: Campaign) -> list[tuple[str, str, int]]:
    """(reason code, title, messages) a resend of `source` may target: retryable outcomes that occurred."""
    messages = Message.objects.filter(campaign=source, customer__erased_at__isnull=True)  # erased: never again
    counts = dict(
        messages.exclude(status=Message.Status.DELIVERED)
        .values_list("reason_code")
        .annotate(n=Count("pk"))
        .values_list("reason_code", "n")
    )
    waiting = messages.filter(status=Message.Status.SENT).count()
    options = []
    for code, reason in REASONS.items():
        if not reason.retryable or code in NEVER_RESEND:
            continue
        count = counts.get(code, 0) + (waiting if code == dispatch.WAITING_FOR_RECEIPT else 0)
        if count:
            options.append((code, reason.title, count))
    return options


@transaction.atomic
def campaign_resend_create(
    *, source: Campaign, user: User, name: str, template: Template, slot_values: list[dict], reasons: list[str]
) -> Campaign:
    """A new campaign to the recipients of `source` whose messages ended with one of `reasons`."""
    if source.status not in (Campaign.Status.DISPATCHED, Campaign.Status.CANCELLED) or source.is_recurring:
        raise ValidationError("Only a campaign that has finished sending can be resent.")
    if template.org_id != source.org_id or template.channel != source.template.channel:
        raise ValidationError({"template": "Choose a template of the same organisation and channel."})
    allowed = {code for code, _, _ in resend_options(source=source)}
    refused = sorted(set(reasons) - allowed)
    if refused:
        raise ValidationError({"reasons": f"These outcomes cannot be resent from this campaign: {', '.join(refused)}."})
    if not reasons:
        raise ValidationError({"reasons": "Choose at least one outcome to resend."})
    _refuse_problems(org=source.org, template=template, slot_values=slot_values)
    campaign = Campaign(
        org=source.org,
        name=name,
        kind=Campaign.Kind.RESEND,
        template=template,
        slot_values=slot_values,
        utm_params=source.utm_params,
        created_by=user,
        resend_of=source,
        resend_reasons=sorted(reasons),
    )
    campaign.full_clean()
    campaign.save()
    outcomes = ", ".join(_outcome_title(code) for code in campaign.resend_reasons)
    campaign_event_record(
        campaign=campaign,
        kind=Event.RESEND_CREATED,
        user=user,
        detail=f"Of “{source.name}”, to the messages that ended as: {outcomes}",
    )
    campaign_event_record(
        campaign=source,
        kind=Event.RESEND_CREATED,
        user=user,
        detail=f"“{campaign.name}”, to the messages that ended as: {outcomes}",
    )
    return campaign


def _outcome_title(code: str) -> str:
    reason = REASONS.get(code)
    return reason.title if reason else code


@transaction.atomic
def campaign_duplicate(*, campaign: Campaign, user: User) -> Campaign:
    """A new draft that sends what `campaign` sends (template, variables, type, schedule, audience, UTM parameters);
    none of its sending (messages, clicks, runs, times, credits, link expiry) is copied. A run copies its campaign."""
    source = campaign.parent or campaign
    if source.kind == Campaign.Kind.RESEND:
        raise ValidationError(
            "A resend goes to the recipients another campaign did not reach: make a new one from that campaign's page."
        )
    if source.audience_deleted:
        raise ValidationError(
            f"This campaign went to {source.audience_description}, which no longer exists: "
            "create a campaign and choose its audience."
        )
    copy = Campaign(org=source.org, template=source.template, created_by=user, utm_params=source.utm_params)
    _save_setup(
        copy,
        name=_copy_name(source),
        slot_values=source.slot_values,
        kind=source.kind,
        schedule=source.schedule,
        coupon_days=source.coupon_days,
        audience_list=source.audience_list,
        audience_segment=source.audience_segment,
    )
    detail = f"From “{campaign.name}”" + (f", a run of “{source.name}”" if campaign.parent_id else "")
    campaign_event_record(campaign=copy, kind=Event.DUPLICATED_FROM, user=user, detail=detail)
    return copy


def _copy_name(source: Campaign) -> str:
    """ "Diwali (copy)", then "Diwali (copy 2)", … : the first name no campaign of the org has."""
    taken = set(Campaign.objects.filter(org=source.org, name__startswith=source.name).values_list("name", flat=True))
    for number in range(1, len(taken) + 2):
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        name = source.name[: Campaign._meta.get_field("name").max_length - len(suffix)] + suffix
        if name not in taken:
            return name
    raise AssertionError("unreachable: there are more numbers than taken names")
