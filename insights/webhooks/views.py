"""The click webhooks page: a campaign manager points the org's webhook at its own system, reads the secret that
signs every call, rotates it, sends a test event, pauses and resumes deliveries, and sees how they go.

The secret is shown to the org's members only (it is theirs); support staff see and manage every org's webhook
but not its secret. The page is never cached, since it carries the secret.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.base.access import get_in_users_orgs, orgs_for_user
from campaigns.base.forms import OrgChoiceForm
from campaigns.base.org_chooser import user_orgs
from campaigns.models import Membership
from insights.models import ClickWebhook
from insights.webhooks import calls, webhook_setup
from insights.webhooks import deliveries as click_webhooks

_URL_HELP = "Your system's https address that linktrack POSTs the clicks to, e.g. https://crm.acme.in/linktrack."


def _url_field() -> forms.CharField:
    return forms.CharField(
        label="Endpoint address",
        max_length=2000,
        help_text=_URL_HELP,
        error_messages={
            "required": "Enter the address of your endpoint, e.g. https://crm.acme.in/linktrack.",
            "max_length": "This address is too long: at most %(limit_value)d characters.",
        },
        widget=forms.URLInput(attrs={"size": 60, "placeholder": "https://"}),
    )


class WebhookUrlForm(forms.Form):
    url = _url_field()

    def clean_url(self) -> str:
        return calls.validate_webhook_url(self.cleaned_data["url"])


class NewWebhookForm(OrgChoiceForm, WebhookUrlForm):
    org_error = "Choose one of your organisations that has no webhook yet."
    field_order = ["org", "url"]


def _page(request, *, new_form: NewWebhookForm | None = None, url_forms: dict | None = None, status: int = 200):
    orgs = user_orgs(request.user)
    webhooks = list(
        ClickWebhook.objects.filter(org__in=[org.pk for org in orgs]).select_related("org").order_by("org__name")
    )
    orgs_without = [org for org in orgs if org.pk not in {webhook.org_id for webhook in webhooks}]
    member_of = set(Membership.objects.filter(user=request.user).values_list("org_id", flat=True))
    url_forms = url_forms or {}
    rows = [
        {
            "webhook": webhook,
            "url_form": url_forms.get(webhook.pk)
            or WebhookUrlForm(initial={"url": webhook.url}, prefix=f"w{webhook.pk}"),
            "shows_secret": webhook.org_id in member_of,
        }
        for webhook in webhooks
    ]
    context = {
        "rows": rows,
        "many_orgs": len(orgs) > 1,
        "new_form": new_form or (NewWebhookForm(orgs=orgs_without) if orgs_without else None),
        "signature_header": calls.SIGNATURE_HEADER,
        "user_agent": calls.USER_AGENT,
        "batch_size": click_webhooks.BATCH_SIZE,
        "timeout_seconds": f"{calls.TIMEOUT_SECONDS:g}",
        "give_up_hours": f"{click_webhooks.GIVE_UP_AFTER.total_seconds() / 3600:g}",
    }
    response = render(request, "insights/webhooks.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page shows the secret
    return response


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request):
    if request.method == "GET":
        return _page(request)
    orgs_without = list(orgs_for_user(request.user).filter(click_webhooks__isnull=True).order_by("name"))
    form = NewWebhookForm(request.POST, orgs=orgs_without)
    if not form.is_valid():
        return _page(request, new_form=form, status=400)
    try:
        webhook = webhook_setup.click_webhook_create(
            org=form.cleaned_data["org"], user=request.user, url=form.cleaned_data["url"]
        )
    except ValidationError as problem:  # the org got a webhook meanwhile (another tab)
        form.add_error(None, problem.messages[0] if problem.messages else "This webhook could not be saved.")
        return _page(request, new_form=form, status=400)
    messages.success(
        request,
        f"Webhook set up for {webhook.org.name}: the clicks from now on go to {webhook.url} within a minute. "
        "Copy the secret below into your system to check the signatures.",
    )
    return redirect("insights:webhooks")


@login_required
@require_POST
def webhook_change_url(request, pk: int):
    webhook = get_in_users_orgs(request.user, ClickWebhook.objects.select_related("org"), pk)
    form = WebhookUrlForm(request.POST, prefix=f"w{webhook.pk}")
    if not form.is_valid():
        return _page(request, url_forms={webhook.pk: form}, status=400)
    webhook_setup.click_webhook_change_url(webhook=webhook, url=form.cleaned_data["url"])
    messages.success(request, f"The clicks of {webhook.org.name} now go to {webhook.url}.")
    return redirect("insights:webhooks")


@login_required
@require_POST
def webhook_rotate_secret(request, pk: int):
    webhook = get_in_users_orgs(request.user, ClickWebhook.objects.select_related("org"), pk)
    webhook_setup.click_webhook_rotate_secret(webhook=webhook)
    messages.success(
        request,
        f"The webhook of {webhook.org.name} has a new secret: calls from now on are signed with it. Put it in your "
        "system now; the old one no longer checks.",
    )
    return redirect("insights:webhooks")


@login_required
@require_POST
def webhook_test(request, pk: int):
    webhook = get_in_users_orgs(request.user, ClickWebhook.objects.select_related("org"), pk)
    result = webhook_setup.click_webhook_send_test(webhook=webhook)
    if result.ok:
        messages.success(request, f"Test event delivered to {webhook.url}. {result.words}")
    else:
        messages.error(request, f"Test event not delivered to {webhook.url}. {result.words}")
    return redirect("insights:webhooks")


@login_required
@require_POST
def webhook_pause(request, pk: int):
    webhook = get_in_users_orgs(request.user, ClickWebhook.objects.select_related("org"), pk)
    if webhook_setup.click_webhook_pause(webhook=webhook, user=request.user):
        messages.success(request, f"Paused: no clicks go to {webhook.url} until you resume. Nothing is lost meanwhile.")
    else:
        messages.info(request, "This webhook was already paused.")
    return redirect("insights:webhooks")


@login_required
@require_POST
def webhook_resume(request, pk: int):
    webhook = get_in_users_orgs(request.user, ClickWebhook.objects.select_related("org"), pk)
    if webhook_setup.click_webhook_resume(webhook=webhook):
        messages.success(
            request, f"Resumed: the clicks since it stopped go to {webhook.url} first, then the new ones as they come."
        )
    else:
        messages.info(request, "This webhook was already delivering.")
    return redirect("insights:webhooks")
