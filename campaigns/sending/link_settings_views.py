"""The campaign's link settings page: UTM parameters and link expiry (campaigns/sending/link_settings.py)."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from campaigns.base.access import get_campaign_for_user
from campaigns.base.forms import add_service_errors
from campaigns.sending.forms import LinkSettingsForm
from campaigns.sending.link_settings import UTM_NAMES, campaign_link_settings_save, example_destination


@login_required
def campaign_link_settings(request, pk: int):
    campaign = get_campaign_for_user(request.user, pk)
    expires_at = campaign.links_expire_at
    initial = {
        **campaign.utm_params,
        # the org's wall-clock time, as the form reads it back
        "links_expire_at": expires_at.astimezone(ZoneInfo(campaign.org.timezone)).replace(tzinfo=None)
        if expires_at
        else None,
        "expired_link_url": campaign.expired_link_url,
    }
    form = LinkSettingsForm(request.POST or None, initial=initial, org_timezone=campaign.org.timezone)
    if request.method == "POST" and form.is_valid():
        try:
            campaign_link_settings_save(
                campaign=campaign,
                user=request.user,
                utm_params={name: form.cleaned_data[name] for name in UTM_NAMES},
                links_expire_at=form.cleaned_data["links_expire_at"],
                expired_link_url=form.cleaned_data["expired_link_url"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Link settings saved; they apply to links already sent too.")
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(
        request,
        "campaigns/link_settings.html",
        {"campaign": campaign, "form": form, "example": example_destination(campaign=campaign)},
    )
