"""The Sending rules page: an org's frequency cap, at most N promotional messages per customer in D days
(campaigns/sending/rules.py), and whether a launch needs a second person's approval (campaigns/lifecycle/approval.py).

A campaign manager sets the rules of each org they belong to, support staff those of every org; another org (and a
change posted to it) is a 404, exactly like an org that does not exist.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns.base.access import get_org_for_user
from campaigns.base.forms import add_service_errors
from campaigns.base.org_chooser import org_choice, user_orgs
from campaigns.models import Org
from campaigns.sending import rules as sending_rules

_MESSAGES_IN_WORDS = sending_rules.MESSAGES_IN_WORDS
_DAYS_IN_WORDS = sending_rules.DAYS_IN_WORDS


class FrequencyCapForm(forms.Form):
    frequency_cap_messages = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=sending_rules.MESSAGES_MAX,
        label="At most this many promotional messages per customer",
        help_text="Empty: no limit.",
        error_messages={
            "invalid": _MESSAGES_IN_WORDS,
            "min_value": _MESSAGES_IN_WORDS,
            "max_value": _MESSAGES_IN_WORDS,
        },
        widget=forms.NumberInput(attrs={"class": "short-number"}),
    )
    frequency_cap_days = forms.IntegerField(
        min_value=1,
        max_value=sending_rules.DAYS_MAX,
        label="In this many days",
        help_text="Counted back from the moment each message is prepared.",
        error_messages={
            "required": _DAYS_IN_WORDS,
            "invalid": _DAYS_IN_WORDS,
            "min_value": _DAYS_IN_WORDS,
            "max_value": _DAYS_IN_WORDS,
        },
        widget=forms.NumberInput(attrs={"class": "short-number"}),
    )


class LaunchApprovalForm(forms.Form):
    launch_needs_approval = forms.BooleanField(
        required=False,
        label="A second person approves every launch",
        help_text="A launched campaign waits until another member of the organisation (or support) approves it.",
    )


def _page(request, *, org: Org | None, orgs: list[Org], form: FrequencyCapForm | None = None, status: int = 200):
    if org is not None and form is None:
        form = FrequencyCapForm(
            initial={"frequency_cap_messages": org.frequency_cap_messages, "frequency_cap_days": org.frequency_cap_days}
        )
    context = {
        "org": org,
        "orgs": orgs,
        "form": form,
        "rule": sending_rules.frequency_cap_in_words(org) if org else "",
        "approval_form": LaunchApprovalForm(initial={"launch_needs_approval": org.launch_needs_approval})
        if org
        else None,
        "awaiting_approval": sending_rules.campaigns_awaiting_approval(org=org) if org else 0,
    }
    return render(request, "campaigns/sending_rules.html", context, status=status)


@login_required
@require_GET
def sending_rules_page(request):
    org, orgs = org_choice(request)
    return _page(request, org=org, orgs=orgs)


@login_required
@require_POST
def sending_rules_change(request, org_pk: int):
    org = get_org_for_user(request.user, org_pk)
    form = FrequencyCapForm(request.POST)
    if form.is_valid():
        try:
            org = sending_rules.frequency_cap_set(
                org=org,
                messages=form.cleaned_data["frequency_cap_messages"],
                days=form.cleaned_data["frequency_cap_days"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            rule = sending_rules.frequency_cap_in_words(org)
            done = f"{rule}." if rule else "No limit: promotional messages are not held back."
            messages.success(request, f"Sending rules of {org.name} saved. {done}")
            return redirect(f"{reverse('campaigns:sending-rules')}?org={org.pk}")
    orgs = user_orgs(request.user)
    return _page(request, org=org, orgs=orgs, form=form, status=400)


@login_required
@require_POST
def launch_approval_change(request, org_pk: int):
    org = get_org_for_user(request.user, org_pk)
    form = LaunchApprovalForm(request.POST)
    form.is_valid()  # a checkbox: absent is off, anything else on
    org = sending_rules.launch_approval_set(
        org=org, needs_approval=form.cleaned_data["launch_needs_approval"], user=request.user
    )
    if org.launch_needs_approval:
        done = "A campaign that is launched now waits until a second person of the organisation approves it."
    else:
        done = "Campaigns are sent as soon as they are launched, without approval."
        waiting = sending_rules.campaigns_awaiting_approval(org=org)
        if waiting:
            campaigns = "campaign" if waiting == 1 else "campaigns"
            done += f" The {waiting} {campaigns} already waiting must still be approved or withdrawn."
    messages.success(request, f"Sending rules of {org.name} saved. {done}")
    return redirect(f"{reverse('campaigns:sending-rules')}?org={org.pk}")
