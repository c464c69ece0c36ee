"""The API keys page: a campaign manager creates keys for the org's BI tools and revokes them.

A new key is shown on the answer to the form that created it and nowhere else: redirecting first would mean keeping
the key somewhere (the session, a message) until the next page reads it.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.base.access import get_in_users_orgs
from campaigns.base.forms import OrgChoiceForm
from campaigns.base.org_chooser import user_orgs
from campaigns.models import Campaign, Channel
from insights.api import keys as api_keys
from insights.models import ApiKey


class ApiKeyForm(OrgChoiceForm):
    name = forms.CharField(
        label="What is it for?",
        max_length=100,
        help_text="A name to recognise the key by, e.g. “Power BI dashboard”.",
        error_messages={"required": "Name the key, so that you know later what uses it."},
    )
    can_write = forms.BooleanField(
        label="May send transactions",
        required=False,
        help_text="Also lets your systems send what customers bought (POST /api/v1/transactions/). "
        "Leave it unticked for a key that only reads figures.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_key_list(request):
    orgs = user_orgs(request.user)
    form = ApiKeyForm(request.POST or None, orgs=orgs)
    created = raw_key = None
    if request.method == "POST" and form.is_valid():
        created, raw_key = api_keys.api_key_create(
            org=form.cleaned_data["org"],
            user=request.user,
            name=form.cleaned_data["name"],
            can_write=form.cleaned_data["can_write"],
        )
        form = ApiKeyForm(orgs=orgs)
    keys = (
        ApiKey.objects.filter(org__in=[org.pk for org in orgs])
        .select_related("org", "created_by")
        .order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-pk")  # live keys first, newest first
    )
    context = {
        "form": form,
        "orgs": orgs,
        "keys": keys,
        "created": created,
        "raw_key": raw_key,
        "api_base": request.build_absolute_uri(reverse("api:campaigns")),
        "rate_per_minute": settings.API_RATE_PER_MINUTE,
        "statuses": Campaign.Status.values,
        "channels": Channel.values,
    }
    response = render(request, "insights/api_keys.html", context, status=400 if form.errors else 200)
    # The page may carry a new key: no browser or proxy may keep a copy.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_key_revoke(request, pk: int):
    api_key = get_in_users_orgs(request.user, ApiKey.objects.all(), pk)
    if api_keys.api_key_revoke(api_key=api_key, user=request.user):
        messages.success(request, f"Key “{api_key.name}” ({api_key.shown_as}) is revoked: its next call is refused.")
    else:
        messages.info(request, f"Key “{api_key.name}” was already revoked.")
    return redirect("insights:api-keys")
