"""Support staff pages: every org's SMS link tracking, and switching it on or off."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns import trai
from campaigns.link_tracking import org_link_tracking_set, templates_with_fixed_links
from campaigns.models import Org


def staff_required(view):
    """Anonymous visitors go to the login page; signed-in users who are not support staff get 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Support staff only.")
        return view(request, *args, **kwargs)

    return wrapper


class LinkTrackingForm(forms.Form):
    enabled = forms.TypedChoiceField(
        choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on", widget=forms.HiddenInput
    )
    confirm = forms.BooleanField(
        required=False,
        label="I understand that the templates listed above (and the campaigns using them) will be refused until "
        "their links are moved into variables.",
    )


@staff_required
def org_list(request):
    orgs = Org.objects.select_related("link_tracking_changed_by").order_by("name")
    return render(request, "support/org_list.html", {"orgs": orgs})


@staff_required
def org_detail(request, pk: int):
    org = get_object_or_404(Org, pk=pk)
    return _org_page(request, org, LinkTrackingForm(initial={"enabled": "off" if org.sms_link_tracking else "on"}))


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
    return _org_page(request, org, form, status=400)


def _org_page(request, org: Org, form: LinkTrackingForm, status: int = 200):
    return render(
        request,
        "support/org_detail.html",
        {
            "org": org,
            "form": form,
            "affected": templates_with_fixed_links(org=org),
            "whitelist_findings": trai.org_findings(org=org),
            "short_link_prefix": trai.short_link_prefix(org),
        },
        status=status,
    )
