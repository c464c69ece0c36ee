"""The campaign manager's campaign pages: the list, new, edit, duplicate, delete, the campaign page and its progress,
launch (with approval), pause, resume, cancel and resend. Each calls one service of campaigns.lifecycle."""

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaigns.base import clock
from campaigns.base.access import campaigns_for_user, get_campaign_for_user, templates_for_user
from campaigns.base.click_rates import PER_SENT_WHY, click_rate, no_delivery_report_warning
from campaigns.base.forms import add_service_errors
from campaigns.base.history import campaign_history, in_org_time
from campaigns.base.schedules import next_runs, schedule_described
from campaigns.customers.attribution import attribution_in_words, campaign_sales
from campaigns.dlt import trai
from campaigns.lifecycle import approval, services
from campaigns.lifecycle.filters import CampaignFilterForm, campaigns_matching
from campaigns.lifecycle.forms import CampaignForm, TemplateChoiceForm
from campaigns.lifecycle.launch_confirmation import launch_confirmation
from campaigns.lifecycle.selectors import (
    campaign_page_is_live,
    campaign_progress,
    campaign_summaries,
    sending_progress_of,
)
from campaigns.lifecycle.setup_forms import CampaignSetupForm, LaunchForm, ResendForm
from campaigns.models import Campaign, Org
from delivery.reports.delivery_times import delivery_speed
from delivery.reports.selectors import delivery_counts, first_sent_at
from linktrack.common.reports_database import reading_reports
from linktrack.counts.campaign_clicks import click_devices, click_timeline
from linktrack.counts.click_counts import click_counts, click_counts_by_link

CAMPAIGNS_PER_PAGE = 50
CAMPAIGN_PAGE_RELATED = (
    "template__sender",
    "parent",
    "resend_of",
    "audience_list",
    "audience_segment",
    "approval_requested_by",
)


@login_required
def campaign_list(request):
    filters = CampaignFilterForm(request.GET)
    campaigns = campaigns_matching(
        campaigns=campaigns_for_user(request.user).filter(parent__isnull=True),
        filters=filters.applicable_filters(),
    ).order_by("-created_at", "-pk")
    page = Paginator(campaigns, CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    # Which campaigns there are from the primary (a new one is listed at once), their figures from the reports
    # database; the small bars of those still sending follow the sending itself, on the primary.
    on_page = list(page)
    with reading_reports() as freshness:
        summaries = campaign_summaries(campaigns=on_page)
    sending = sending_progress_of(campaigns=on_page)
    rows = [(campaign, summaries[campaign.pk], sending.get(campaign.pk)) for campaign in on_page]
    # The organisation column only when the page lists more than one (support staff); a manager's page is narrower.
    several_orgs = len({campaign.org_id for campaign, _summary, _sending in rows}) > 1
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "several_orgs": several_orgs,
        "any_per_sent": any(not summary.delivery_reported for summary in summaries.values()),
        "per_sent_why": PER_SENT_WHY,
        # the user's orgs whose credits fell below the level they asked to be warned at (support: none)
        "low_on_credits": Org.objects.filter(memberships__user=request.user, credits__lt=F("credits_alert_below")),
        "figures_as_of": freshness.words(),
    }
    return render(request, "campaigns/list.html", context)


@login_required
def campaign_new(request):
    templates = templates_for_user(request.user)
    choice = TemplateChoiceForm(request.GET or None, templates=templates)
    if not choice.is_valid():
        return render(request, "campaigns/new.html", {"choice": choice})
    template = choice.cleaned_data["template"]
    form = CampaignForm(request.POST or None, template=template, coupon_reminder=_coupon_reminder(request))
    setup = CampaignSetupForm(request.POST or None, org=template.org)
    if request.method == "POST" and _both_valid(form, setup):
        try:
            campaign = services.campaign_create(
                org=template.org, user=request.user, template=template, **_campaign_fields(form, setup)
            )
        except ValidationError as error:
            _add_campaign_errors(form, setup, error)
        else:
            messages.success(request, "Campaign saved. Check it, then launch it.")
            return redirect("campaigns:detail", pk=campaign.pk)
    context = {"choice": choice, "form": form, "setup": setup, "template": template}
    return render(request, "campaigns/new.html", context)


def _coupon_reminder(request) -> bool:
    """Whether the posted campaign is a coupon-expiry reminder, whose variables may read the coupon's fields."""
    return request.POST.get("kind") == Campaign.Kind.COUPON_REMINDER


def _both_valid(form: forms.Form, other: forms.Form) -> bool:
    """Both forms checked, so the page shows every mistake of both at once."""
    valid = form.is_valid()
    return other.is_valid() and valid


def _add_campaign_errors(form: CampaignForm, other: forms.Form, error: ValidationError) -> None:
    """A service's refusals, each next to the field it names: a variable on the campaign form, the type, schedule
    and audience (a resend's outcomes) on the other; the rest above the variables, or above the other form when the
    refusal names no field."""
    if not hasattr(error, "error_dict"):
        add_service_errors(other, error)
        return
    for field, problems in error.message_dict.items():
        target = other if field in other.fields else form
        target.add_error(field if field in target.fields else None, problems)


def _campaign_fields(form: CampaignForm, setup: CampaignSetupForm) -> dict:
    return {
        "name": form.cleaned_data["name"],
        "slot_values": form.slot_values,
        "kind": setup.cleaned_data["kind"],
        "schedule": setup.cleaned_data["schedule"].strip(),
        "coupon_days": setup.cleaned_data["coupon_days"],
        "audience_list": setup.cleaned_data["audience_list"],
        "audience_segment": setup.cleaned_data["audience_segment"],
    }


def _campaign_initial(campaign: Campaign) -> tuple[dict, dict]:
    """What the campaign and setup forms show for a saved campaign."""
    initial = {"name": campaign.name}
    for number, slot in enumerate(campaign.slot_values, start=1):
        initial[f"slot_{number}_source"] = slot.get("source")
        initial[f"slot_{number}_value"] = slot.get("value")
        initial[f"slot_{number}_fallback"] = slot.get("fallback", "")
    setup = {
        "kind": campaign.kind,
        **CampaignSetupForm.initial_schedule(cron=campaign.schedule, kind=campaign.kind),
        "coupon_days": campaign.coupon_days,
        "audience_list": campaign.audience_list_id,
        "audience_segment": campaign.audience_segment_id,
    }
    return initial, setup


@login_required
def campaign_edit(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    if campaign.status == Campaign.Status.AWAITING_APPROVAL:
        messages.error(request, services.AWAITING_APPROVAL_UNCHANGED)
        return redirect("campaigns:detail", pk=campaign.pk)
    if not campaign.is_draft or campaign.kind == Campaign.Kind.RESEND:
        messages.error(request, "Only a campaign that has not been launched can be changed.")
        return redirect("campaigns:detail", pk=campaign.pk)
    initial, setup_initial = _campaign_initial(campaign)
    form = CampaignForm(
        request.POST or None, initial=initial, template=campaign.template, coupon_reminder=_coupon_reminder(request)
    )
    setup = CampaignSetupForm(request.POST or None, initial=setup_initial, org=campaign.org)
    if request.method == "POST" and _both_valid(form, setup):
        try:
            services.campaign_update(campaign=campaign, user=request.user, **_campaign_fields(form, setup))
        except ValidationError as error:
            _add_campaign_errors(form, setup, error)
        else:
            messages.success(request, "Campaign changed. Check it, then launch it.")
            return redirect("campaigns:detail", pk=campaign.pk)
    context = {
        "form": form,
        "setup": setup,
        "template": campaign.template,
        "campaign": campaign,
        "next_runs": _next_runs_in_words(campaign),
    }
    return render(request, "campaigns/new.html", context)


def _next_runs_in_words(campaign: Campaign) -> list[str]:
    """The next runs of a recurring campaign's saved schedule, on the org's clock (none once it has stopped)."""
    if not campaign.schedule or not (campaign.is_draft or campaign.status == Campaign.Status.ACTIVE):
        return []
    zone = campaign.org.timezone
    if campaign.next_run_at and campaign.next_run_at >= clock.now():
        runs = [campaign.next_run_at, *next_runs(cron=campaign.schedule, timezone=zone, after=campaign.next_run_at)]
    else:
        runs = next_runs(cron=campaign.schedule, timezone=zone, after=clock.now())
    return [f"{run.astimezone(ZoneInfo(zone)):%a %-d %b %Y %H:%M}" for run in runs[:3]]


@login_required
@require_POST
def campaign_fallbacks(request, pk: int):
    """The preview's values for recipients whose customer field is empty, one per variable."""
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    fallbacks = {}
    for key, value in request.POST.items():
        number = key.removeprefix("fallback_")
        if key.startswith("fallback_") and number.isdigit():
            fallbacks[int(number)] = value[:200]
    try:
        services.campaign_fallbacks_set(campaign=campaign, user=request.user, fallbacks=fallbacks)
    except ValidationError as invalid:
        for problem in invalid.messages:
            messages.error(request, problem)
    else:
        messages.success(request, "Saved: recipients whose field is empty get these values instead.")
    return redirect(reverse("campaigns:preview", args=[campaign.pk]) + "#empty-fields")


@login_required
@require_POST
def campaign_duplicate(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    try:
        copy = services.campaign_duplicate(campaign=campaign, user=request.user)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
        return redirect("campaigns:detail", pk=campaign.pk)
    messages.success(request, f"“{copy.name}” is a new draft copied from “{campaign.name}”: change what you need.")
    return redirect("campaigns:edit", pk=copy.pk)


@login_required
@require_POST
def campaign_delete(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    if services.campaign_delete(campaign=campaign, user=request.user):
        messages.success(request, f"Campaign “{campaign.name}” deleted.")
        return redirect("campaigns:list")
    if campaign.status == Campaign.Status.AWAITING_APPROVAL:
        messages.error(request, "This campaign is waiting for approval: withdraw it first, then delete it.")
    else:
        messages.error(request, "A launched campaign cannot be deleted: its messages and report are kept.")
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
def campaign_detail(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    return _campaign_page(request, campaign)


def _campaign_page(request, campaign: Campaign, launch_form: LaunchForm | None = None, status: int = 200):
    """The campaign's page; `launch_form`: a refused launch, shown with its errors and what was typed."""
    if launch_form is None and campaign.is_draft:
        launch_form = LaunchForm(org_timezone=campaign.org.timezone)
    counts = delivery_counts(campaign_id=campaign.pk)
    clicks = click_counts(campaign_id=campaign.pk)
    runs = list(campaign.runs.order_by("-created_at")[:50]) if campaign.is_recurring else []
    run_summaries = campaign_summaries(campaigns=runs)
    summary = campaign_summaries(campaigns=[campaign])[campaign.pk] if campaign.is_recurring else None
    delivered, clickers = (summary.delivered, summary.clicks.unique) if summary else (counts.delivered, clicks.unique)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "counts": counts,
            "progress": campaign_progress(
                campaign=campaign, counts=counts, first_sent_at=first_sent_at(campaign_id=campaign.pk)
            ),
            "clicks": clicks,
            "click_rate": click_rate(
                unique_clicks=clicks.unique,
                delivered=counts.delivered,
                sent=counts.sent,
                delivery_reported=campaign.template.delivery_is_reported,
            ),
            "per_sent_why": PER_SENT_WHY,
            "links": click_counts_by_link(campaign_id=campaign.pk),
            "timeline": click_timeline(campaign=campaign) if clicks.total else None,
            "devices": click_devices(campaign_id=campaign.pk) if clicks.total else [],
            "runs": [(run, run_summaries[run.pk]) for run in runs],
            "summary": summary,
            "sales": campaign_sales(
                campaign_ids=[campaign.pk], delivered={campaign.pk: delivered}, clickers={campaign.pk: clickers}
            )[campaign.pk]
            if delivered
            else [],
            "attribution_rule": attribution_in_words(campaign.org),
            "delivery_speed": delivery_speed(campaign=campaign) if counts.delivered or campaign.is_recurring else None,
            "launch_form": launch_form if campaign.is_draft else None,
            "can_pause": campaign.can_pause or (campaign.status == Campaign.Status.DISPATCHED and counts.queued),
            "can_cancel": campaign.can_cancel or (campaign.status == Campaign.Status.DISPATCHED and counts.queued),
            "in_progress": campaign.status == Campaign.Status.DISPATCHING or counts.queued,
            # From the launch on (the audience is counted then), and once finished, with its 100% and time taken.
            "show_progress": not campaign.is_recurring
            and (campaign.status == Campaign.Status.DISPATCHING or counts.total > 0),
            "refresh": campaign_page_is_live(campaign=campaign, counts=counts),
            "history": campaign_history(campaign=campaign),
            "schedule_words": schedule_described(campaign.schedule) if campaign.schedule else "",
            "next_runs": _next_runs_in_words(campaign),
            "approval": approval.approval_request_on_page(campaign=campaign, user=request.user),
            "reason_max_length": approval.REASON_MAX_LENGTH,
        },
        status=status,
    )


@login_required
def campaign_progress_json(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    progress = campaign_progress(
        campaign=campaign,
        counts=delivery_counts(campaign_id=campaign.pk),
        first_sent_at=first_sent_at(campaign_id=campaign.pk),
    )
    return JsonResponse(progress)


@login_required
@require_POST
def campaign_launch(request, pk: int):
    """Launch in two steps: the first post shows what the launch will do (audience, credits and the balance after,
    when, sender, template) and sends nothing; the second, with `confirmed`, launches."""
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    form = LaunchForm(request.POST, org_timezone=campaign.org.timezone)
    if not form.is_valid():
        return _campaign_page(request, campaign, launch_form=form, status=400)
    scheduled_at = form.cleaned_data["scheduled_at"]
    try:
        if not form.cleaned_data["confirmed"]:
            confirmation = launch_confirmation(campaign=campaign, scheduled_at=scheduled_at)
            context = {
                "campaign": campaign,
                "confirmation": confirmation,
                "form": form,
                "no_delivery_report": no_delivery_report_warning(campaign.template),
            }
            return render(request, "campaigns/launch_confirm.html", context)
        campaign = services.campaign_launch(campaign=campaign, user=request.user, scheduled_at=scheduled_at)
    except ValidationError as error:
        if hasattr(error, "error_dict") and "scheduled_at" in error.error_dict:
            add_service_errors(form, error)
            return _campaign_page(request, campaign, launch_form=form, status=400)
        for problem in error.messages:
            messages.error(request, problem)
    else:
        if campaign.status == Campaign.Status.AWAITING_APPROVAL:
            _sent_for_approval(request, campaign)
        else:
            messages.success(request, _launched_in_words(campaign))
        for warning in trai.campaign_launch_warnings(campaign=campaign):
            messages.warning(request, warning)
    return redirect("campaigns:detail", pk=campaign.pk)


def _launched_in_words(campaign: Campaign) -> str:
    if campaign.status == Campaign.Status.SCHEDULED:
        return f"Campaign scheduled for {in_org_time(campaign.scheduled_at, campaign)} ({campaign.org.timezone})."
    if campaign.status == Campaign.Status.ACTIVE:
        return "Recurring campaign active: each run is sent on its schedule."
    return "Campaign launched: messages are being prepared and sent."


def _sent_for_approval(request, campaign: Campaign) -> None:
    org = campaign.org.name
    approvers = approval.approvers_of(campaign=campaign, requester=campaign.approval_requested_by)
    if approvers:
        emailed = ", ".join(approver.email for approver in approvers)
        messages.success(
            request,
            f"Sent for approval: nothing is sent until another member of {org} approves it. We emailed {emailed}.",
        )
    else:
        messages.warning(
            request,
            f"Sent for approval, but nobody else in {org} can approve it yet: invite a colleague on the Team page, "
            "or ask support to approve it.",
        )


@login_required
@require_POST
def campaign_approve(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    try:
        campaign = approval.campaign_approve(campaign=campaign, user=request.user)
    except ValidationError as invalid:
        for problem in invalid.messages:
            messages.error(request, problem)
    else:
        messages.success(request, f"Approved. {_launched_in_words(campaign)}")
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
@require_POST
def campaign_reject(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    requester = campaign.approval_requested_by
    try:
        approval.campaign_reject(campaign=campaign, user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        told = f"; {requester.email} was emailed your reason" if requester and requester != request.user else ""
        messages.success(
            request, f"Not approved: “{campaign.name}” is a draft again, with your reason on its page{told}."
        )
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
@require_POST
def campaign_withdraw(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    try:
        approval.campaign_withdraw(campaign=campaign, user=request.user)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        messages.success(request, f"Request withdrawn: “{campaign.name}” is a draft again. Change it, then launch it.")
    return redirect("campaigns:detail", pk=campaign.pk)


def _state_change(request, pk: int, change, *, done: str, refused: str):
    """Pause, resume or cancel: the service says whether the campaign's state allowed it."""
    campaign = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    try:
        changed = change(campaign=campaign, user=request.user)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
        return redirect("campaigns:detail", pk=campaign.pk)
    if changed:
        messages.success(request, done)
    else:
        messages.error(request, refused)
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
@require_POST
def campaign_pause(request, pk: int):
    return _state_change(
        request,
        pk,
        services.campaign_pause,
        done="Campaign paused. Messages already with the gateway are not recalled.",
        refused="This campaign is not sending, so there is nothing to pause.",
    )


@login_required
@require_POST
def campaign_resume(request, pk: int):
    return _state_change(
        request,
        pk,
        services.campaign_resume,
        done="Campaign resumed from where it stopped.",
        refused="Only a paused campaign can be resumed.",
    )


@login_required
@require_POST
def campaign_cancel(request, pk: int):
    return _state_change(
        request,
        pk,
        services.campaign_cancel,
        done="Campaign cancelled. Messages not yet handed over will not be sent.",
        refused="This campaign has finished or was never launched, so it cannot be cancelled.",
    )


@login_required
def campaign_resend(request, pk: int):
    source = get_campaign_for_user(request.user, pk, *CAMPAIGN_PAGE_RELATED)
    options = services.resend_options(source=source)
    templates = templates_for_user(request.user).filter(org=source.org, channel=source.template.channel)
    chosen_template = request.POST.get("template") or request.GET.get("template") or source.template_id
    template = templates.filter(pk=chosen_template).first() if str(chosen_template).isdigit() else None
    template = template or source.template
    allowed = {code for code, _, _ in options}
    if request.method == "POST":
        form = ResendForm(request.POST, options=options)
        slots = CampaignForm(request.POST, template=template)
    else:
        chosen = [code for code in request.GET.getlist("reason") if code in allowed]
        form = ResendForm(initial={"reasons": chosen}, options=options)
        initial = _campaign_initial(source)[0] if template.pk == source.template_id else {}
        initial["name"] = f"{source.name} · resend"[:200]
        slots = CampaignForm(initial=initial, template=template)
    if request.method == "POST" and _both_valid(slots, form):
        try:
            campaign = services.campaign_resend_create(
                source=source,
                user=request.user,
                name=slots.cleaned_data["name"],
                template=template,
                slot_values=slots.slot_values,
                reasons=form.cleaned_data["reasons"],
            )
        except ValidationError as error:
            _add_campaign_errors(slots, form, error)
        else:
            messages.success(request, "Resend saved. Check it, then launch it.")
            return redirect("campaigns:detail", pk=campaign.pk)
    context = {
        "source": source,
        "form": form,
        "slots": slots,
        "template": template,
        "templates": templates,
        "options": options,
    }
    return render(request, "campaigns/resend.html", context)
