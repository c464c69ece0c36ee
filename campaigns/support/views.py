"""Support staff pages: every org's SMS link tracking (and switching it on or off), credits and short domain."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns.base.access import staff_required
from campaigns.base.forms import add_service_errors
from campaigns.dlt import trai
from campaigns.models import Org
from campaigns.support.org_settings import org_credits_add, org_short_links_set
from campaigns.support.tracking_switch import org_link_tracking_set, templates_with_fixed_links
from delivery.models import GatewayConfig


class LinkTrackingForm(forms.Form):
    enabled = forms.TypedChoiceField(
        choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on", widget=forms.HiddenInput
    )
    confirm = forms.BooleanField(
        required=False,
        label="I understand that the templates listed above (and the campaigns using them) will be refused until "
        "their links are moved into variables.",
    )


class CreditsForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-(10**9), max_value=10**9, help_text="Credits to add; a negative number takes some back."
    )
    note = forms.CharField(
        required=False,
        max_length=200,
        help_text="Why, e.g. the invoice or order number. The org's campaign managers see it on their Credits page.",
    )


class ShortLinksForm(forms.Form):
    short_domain = forms.CharField(
        required=False,
        max_length=100,
        help_text="e.g. s.cplry.com, whitelisted on DLT under the org's headers. Empty: the deployment's address.",
    )
    short_link_with_scheme = forms.BooleanField(required=False, label="Show https:// before short links in messages")


@staff_required
def org_list(request):
    orgs = Org.objects.select_related("link_tracking_changed_by").order_by("name")
    return render(request, "support/org_list.html", {"orgs": orgs})


@staff_required
def org_detail(request, pk: int):
    org = get_object_or_404(Org, pk=pk)
    return _org_page(request, org)


@staff_required
@require_POST
def org_link_tracking(request, pk: int):
    org = get_object_or_404(Org, pk=pk)
    form = LinkTrackingForm(request.POST)
    if form.is_valid():
        try:
            org = org_link_tracking_set(
                org=org, enabled=form.cleaned_data["enabled"], user=request.user, confirmed=form.cleaned_data["confirm"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            state = "on" if org.sms_link_tracking else "off"
            messages.success(request, f"SMS link tracking is now {state} for {org.name}.")
            return redirect("support:org", pk=org.pk)
    return _org_page(request, org, form=form, status=400)


@staff_required
@require_POST
def org_credits(request, pk: int):
    def add(org: Org, data: dict) -> str:
        top_up = org_credits_add(org=org, user=request.user, **data)
        return f"{top_up.amount:+} credits for {org.name}: the balance is {top_up.balance_after}."

    return _org_setting_change(request, pk, CreditsForm(request.POST), add, form_name="credits_form")


@staff_required
@require_POST
def org_short_links(request, pk: int):
    def change(org: Org, data: dict) -> str:
        org = org_short_links_set(
            org=org,
            short_domain=data["short_domain"],
            with_scheme=data["short_link_with_scheme"],
            user=request.user,
            app_host=request.get_host(),
        )
        return f"New short links of {org.name} go out as {trai.short_link_prefix(org)}…."

    return _org_setting_change(request, pk, ShortLinksForm(request.POST), change, form_name="short_links_form")


def _org_setting_change(request, pk: int, form: forms.Form, change, *, form_name: str):
    """Apply a valid form through its service and say what changed; else the org page with the errors (400)."""
    org = get_object_or_404(Org, pk=pk)
    if form.is_valid():
        try:
            done = change(org, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("support:org", pk=org.pk)
    return _org_page(request, org, status=400, **{form_name: form})


def _org_page(request, org: Org, *, form=None, credits_form=None, short_links_form=None, status: int = 200):
    initial = {"short_domain": org.short_domain, "short_link_with_scheme": org.short_link_with_scheme}
    return render(
        request,
        "support/org_detail.html",
        {
            "org": org,
            "form": form or LinkTrackingForm(initial={"enabled": "off" if org.sms_link_tracking else "on"}),
            "credits_form": credits_form or CreditsForm(),
            "short_links_form": short_links_form or ShortLinksForm(initial=initial),
            "top_ups": org.credit_top_ups.select_related("created_by").order_by("-created_at", "-pk")[:20],
            "gateways": org.gateway_configs.order_by("channel", "-is_active", "pk"),
            "gateway_kinds": GatewayConfig.Kind.choices,
            "affected": templates_with_fixed_links(org=org),
            "whitelist_findings": trai.org_findings(org=org),
            "short_link_prefix": trai.short_link_prefix(org),
        },
        status=status,
    )
