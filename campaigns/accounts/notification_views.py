"""The Notifications page (which emails a signed-in user gets) and the summary email's "stop these emails" link.

The link needs no sign-in: its signed token names the user. Opening it only asks, since mail scanners open every
link of an email; the button turns the emails off, and so does a mail app's one-click unsubscribe (RFC 8058), which
POSTs `List-Unsubscribe=One-Click` with no cookie and no CSRF token.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.accounts.notifications import campaign_summary_emails_set, user_for_stop_token
from campaigns.base.secret_link_pages import csrf_refusal, secret_link_page
from delivery.reports.selectors import masked_recipient


class NotificationsForm(forms.Form):
    campaign_summary_emails = forms.BooleanField(
        required=False,
        label="Email me a summary when a campaign I launched has finished",
        help_text="Messages, delivered, not delivered and not sent with the main reasons, and clicks. A recurring "
        "campaign's runs come together, at most one email a day.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    if request.method == "POST":
        form = NotificationsForm(request.POST)
        if form.is_valid():
            on = form.cleaned_data["campaign_summary_emails"]
            campaign_summary_emails_set(user=request.user, on=on)
            words = "You will get" if on else "You will no longer get"
            messages.success(request, f"{words} a summary email when a campaign you launched has finished.")
            return redirect("notifications:settings")
    else:
        form = NotificationsForm(initial={"campaign_summary_emails": request.user.campaign_summary_emails})
    return render(request, "campaigns/notifications.html", {"form": form})


@csrf_exempt  # only for the RFC 8058 one-click POST; every other POST is checked below
@require_http_methods(["GET", "HEAD", "POST"])
def summary_emails_stop(request, token: str):
    """GET asks (mail scanners fetch links, so it never changes anything); POST turns the summary emails off."""
    user = user_for_stop_token(token=token)
    if user is None:
        return secret_link_page(request, "campaigns/notifications_stop_not_found.html", {}, status=404)
    if request.method != "POST":
        return secret_link_page(request, "campaigns/notifications_stop.html", {"address": masked_recipient(user.email)})
    refusal = csrf_refusal(request)
    if refusal is not None:
        return refusal
    changed = campaign_summary_emails_set(user=user, on=False)
    context = {"address": masked_recipient(user.email), "stopped": True, "already": not changed}
    return secret_link_page(request, "campaigns/notifications_stop.html", context)
