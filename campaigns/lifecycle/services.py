"""Business operations on campaigns. Views and tasks call these; they hold no logic themselves."""

from datetime import datetime

from croniter import croniter
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Count

from campaigns.base import clock
from campaigns.base.history import campaign_event_record
from campaigns.customers.campaign_audience import WAITING_FOR_RECEIPT
from campaigns.customers.customer_fields import customer_field_problem
from campaigns.dlt.rendering import template_campaign_problems
from campaigns.lifecycle import approval
from campaigns.models import Campaign, CampaignEvent, CustomerList, Org, Segment, Template, User
from campaigns.sending import holds
from campaigns.sending.starts import (
    campaign_launch_from,
    campaign_start_problems,
)
from campaigns.sending.tasks import campaign_dispatch_task
from delivery.models import Message
from delivery.reasons import REASONS

Event = CampaignEvent.Kind
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
# Approvers approve what they saw: a campaign waiting for approval is changed only after its request is withdrawn.
AWAITING_APPROVAL_UNCHANGED = "This campaign is waiting for approval: withdraw it first, then change it."


def _schedule_problem(schedule: str) -> str:
    if croniter.is_valid(schedule):
        return ""
    return (
        f"'{schedule}' is not a valid schedule. Use five fields: minute hour day month weekday, for example "
        "'0 10 * * 1' for every Monday at 10:00."
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
    """Check what a manager chose for a campaign (name, variables, type, schedule, audience), then save it; every
    problem is refused at once, each next to its field where it has one."""
    for field, value in fields.items():
        setattr(campaign, field, value)
    for chosen in (campaign.audience_list, campaign.audience_segment):
        if chosen is not None and chosen.org_id != campaign.org_id:
            raise ValidationError("This audience belongs to another organisation.")
    if campaign.kind == Campaign.Kind.RESEND:
        raise ValidationError("A resend is made from a finished campaign's page.")
    errors: dict[str, list[str]] = {}
    if campaign.kind == Campaign.Kind.RECURRING and not campaign.schedule:
        errors["schedule"] = ["A recurring campaign needs a schedule."]
    if campaign.kind == Campaign.Kind.COUPON_REMINDER and campaign.coupon_days is None:
        errors["coupon_days"] = ["Say how many days before a coupon expires the reminder goes out."]
    if campaign.schedule and _schedule_problem(campaign.schedule):
        errors["schedule"] = [_schedule_problem(campaign.schedule)]
    errors |= _slot_errors(
        org=campaign.org,
        template=campaign.template,
        slot_values=campaign.slot_values,
        coupon_reminder=campaign.kind == Campaign.Kind.COUPON_REMINDER,
    )
    if errors:
        raise ValidationError(errors)
    campaign.audience_description = Campaign.describe_audience(campaign.audience_list, campaign.audience_segment)
    if campaign.kind != Campaign.Kind.COUPON_REMINDER:
        campaign.coupon_days = None
    campaign.full_clean()
    campaign.save()
    return campaign


@transaction.atomic
def campaign_fallbacks_set(*, campaign: Campaign, user: User, fallbacks: dict[int, str]) -> Campaign:
    """Set what recipients whose customer field is empty get instead, by variable number (1-based); an empty
    fallback gives them nothing. Only a draft's, and only variables reading a customer field."""
    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("org", "template").get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError("Only a campaign that has not been launched can be changed.")
    slot_values = [dict(slot) for slot in campaign.slot_values]
    for number, fallback in fallbacks.items():
        if not 1 <= number <= len(slot_values) or slot_values[number - 1].get("source") != "field":
            raise ValidationError(f"Variable {number} does not read a customer field.")
        slot = slot_values[number - 1]
        slot.pop("fallback", None)
        if " ".join(fallback.split()):
            slot["fallback"] = " ".join(fallback.split())
    if slot_values == campaign.slot_values:
        return campaign
    _refuse_problems(org=campaign.org, template=campaign.template, slot_values=slot_values)
    campaign.slot_values = slot_values
    campaign.full_clean()
    campaign.save(update_fields=["slot_values", "updated_at"])
    campaign_event_record(campaign=campaign, kind=Event.EDITED, user=user, detail="values for empty customer fields")
    return campaign


def campaign_delete(*, campaign: Campaign, user: User) -> bool:
    """Delete a draft; a launched campaign keeps its messages and report. False when it is not a draft."""
    deleted, _ = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DRAFT).delete()
    return bool(deleted)


def _slot_errors(*, org: Org, template: Template, slot_values: list[dict], coupon_reminder: bool) -> dict:
    """Every problem of a campaign's variables: a customer field that no customer has (a typo such as
    'first_name_typo' would be empty in every message) next to its variable, and what operators would block (DLT)
    or what cannot be tracked, in words."""
    errors = {}
    for number, slot in enumerate(slot_values, start=1):
        if slot.get("source") == "field":
            problem = customer_field_problem(org=org, field=slot.get("value", ""), coupon_reminder=coupon_reminder)
            if problem:
                errors[f"slot_{number}_value"] = [problem]
    problems = template_campaign_problems(org=org, template=template, slot_values=slot_values)
    if problems:
        errors[NON_FIELD_ERRORS] = [str(problem) for problem in problems]
    return errors


def _refuse_problems(*, org: Org, template: Template, slot_values: list[dict]) -> None:
    """Refuse what operators would block (DLT) or what cannot be tracked, with every reason in words."""
    problems = template_campaign_problems(org=org, template=template, slot_values=slot_values)
    if problems:
        raise ValidationError([str(p) for p in problems])


def campaign_launch(*, campaign: Campaign, user: User, scheduled_at: datetime | None = None) -> Campaign:
    """Start sending now, at `scheduled_at`, or (recurring) on its schedule. Launching twice starts one dispatch.

    When the org needs launches approved (Org.launch_needs_approval), the campaign waits for a second person of the
    org instead, and is launched as asked once approved (campaigns.lifecycle.approval)."""
    if approval.launch_needs_approval(campaign=campaign):
        return approval.campaign_approval_request(campaign=campaign, user=user, scheduled_at=scheduled_at)
    campaign_launch_from(campaign=campaign, user=user, scheduled_at=scheduled_at, status=Campaign.Status.DRAFT)
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, user: User) -> bool:
    paused = holds.campaign_hold(
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
    cancelled = holds.campaign_stop(campaign_id=campaign.pk)
    if cancelled:
        detail = "The schedule was stopped: no more runs" if campaign.is_recurring else ""
        campaign_event_record(campaign=campaign, kind=Event.CANCELLED, user=user, detail=detail)
    return cancelled


def resend_options(*, source: Campaign) -> list[tuple[str, str, int]]:
    """(reason code, title, messages) a resend of `source` may target: retryable outcomes that occurred."""
    messages = Message.objects.filter(campaign=source, customer__erased_at__isnull=True)  # erased: never again
    counts = dict(
        messages.exclude(status=Message.Status.DELIVERED)
        .values_list("reason_code")
        .annotate(n=Count("pk"))
        .values_list("reason_code", "n")
    )
    # SMS from a promotional sender: operators never report delivery, so a missing receipt says nothing and a resend
    # would text people who may well have the message.
    reported = source.template.delivery_is_reported
    waiting = messages.filter(status=Message.Status.SENT).count() if reported else 0
    options = []
    for code, reason in REASONS.items():
        if not reason.retryable or code in NEVER_RESEND:
            continue
        count = counts.get(code, 0) + (waiting if code == WAITING_FOR_RECEIPT else 0)
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
    errors = _slot_errors(org=source.org, template=template, slot_values=slot_values, coupon_reminder=False)
    if errors:
        raise ValidationError(errors)
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
