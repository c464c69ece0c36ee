from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from campaigns import services
from campaigns.forms import CampaignForm, TemplateChoiceForm
from campaigns.models import Campaign
from campaigns.selectors import campaigns_for_user, templates_for_user
from delivery.selectors import delivery_counts
from insights.selectors import click_counts


def _get_campaign_for_user(user, pk: int) -> Campaign:
    """Another org's campaign is a 404, exactly like a campaign that does not exist."""
    return get_object_or_404(campaigns_for_user(user).select_related("template__sender"), pk=pk)


@login_required
def campaign_list(request):
    campaigns = campaigns_for_user(request.user).order_by("-created_at")
    return render(request, "campaigns/list.html", {"campaigns": campaigns})


@login_required
def campaign_new(request):
    templates = templates_for_user(request.user)
    choice = TemplateChoiceForm(request.GET or None, templates=templates)
    if not choice.is_valid():
        return render(request, "campaigns/new.html", {"choice": choice})
    template = choice.cleaned_data["template"]
    form = CampaignForm(request.POST or None, template=template)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                org=template.org,
                user=request.user,
                name=form.cleaned_data["name"],
                template=template,
                slot_values=form.slot_values,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Campaign saved. Check it, then launch it.")
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/new.html", {"choice": choice, "form": form, "template": template})


@login_required
def campaign_detail(request, pk: int):
    campaign = _get_campaign_for_user(request.user, pk)
    counts = delivery_counts(campaign_id=campaign.pk)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "counts": counts,
            "clicks": click_counts(campaign_id=campaign.pk),
            "in_progress": campaign.status == Campaign.Status.DISPATCHING or counts.queued or counts.waiting,
        },
    )


@login_required
@require_POST
def campaign_launch(request, pk: int):
    campaign = _get_campaign_for_user(request.user, pk)
    try:
        services.campaign_launch(campaign=campaign, user=request.user)
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, problem)
    else:
        messages.success(request, "Campaign launched: messages are being prepared and sent.")
    return redirect("campaigns:detail", pk=campaign.pk)
