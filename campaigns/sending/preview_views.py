"""The campaign preview page: the message before and after link rewriting, its length and credits, its links
checked, and the form to send a test (campaigns.sending.test_send_views)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaigns.base.access import (
    get_campaign_for_user,
)
from campaigns.base.click_rates import no_delivery_report_warning
from campaigns.dlt.completeness import template_incomplete_problem
from campaigns.dlt.template_length import LONG_SMS_SEGMENTS
from campaigns.models import Customer
from campaigns.sending.link_check import CACHE_SECONDS, Verdict, campaign_link_checks, link_checks_summary
from campaigns.sending.preview import campaign_preview, campaign_trai_findings, preview_audience
from delivery.reports.selectors import recent_proofs

SAMPLE_CHOICES = 50


def _get_sample_customer(audience, raw_pk: str) -> Customer | None:
    """The sample customer asked for (404 outside the campaign's audience), or None for the first."""
    return get_object_or_404(audience, pk=int(raw_pk)) if raw_pk.isdigit() else None


@login_required
def campaign_preview_page(request, pk: int, proof_form=None):
    """The preview; `proof_form`: a refused "Send a test", shown with its errors and what was typed."""
    campaign = get_campaign_for_user(request.user, pk, "template__sender")
    audience = preview_audience(campaign=campaign)
    samples = list(audience.order_by("pk")[:SAMPLE_CHOICES])
    customer = _get_sample_customer(audience, request.GET.get("customer", ""))
    preview = campaign_preview(campaign=campaign, customer=customer)
    findings = campaign_trai_findings(campaign=campaign, customer=preview.customer)
    link_checks = campaign_link_checks(campaign=campaign, customer=preview.customer)
    context = {
        "campaign": campaign,
        "preview": preview,
        "samples": samples,
        "findings": findings,
        "refused_at_launch": [finding for finding in findings if finding.blocking],
        "template_incomplete": template_incomplete_problem(campaign.template),
        "no_delivery_report": no_delivery_report_warning(campaign.template),
        "warn_above": LONG_SMS_SEGMENTS,
        "link_checks": link_checks,
        "link_checks_summary": link_checks_summary(link_checks),
        "links_broken": any(check.verdict == Verdict.BROKEN for check in link_checks),
        "link_checks_kept_minutes": CACHE_SECONDS // 60,
        "proofs": recent_proofs(campaign_id=campaign.pk),
        "proof_form": proof_form,
    }
    return render(request, "campaigns/preview.html", context)


@login_required
@require_POST
def campaign_preview_check_links(request, pk: int):
    """The preview's Check again: fetch the campaign's links now, whatever was cached, then show the preview."""
    campaign = get_campaign_for_user(request.user, pk, "template__sender")
    audience = preview_audience(campaign=campaign)
    customer = _get_sample_customer(audience, request.POST.get("customer", ""))
    # The same sample customer as the preview's, whose links (from customer fields) the page shows.
    sample = customer or audience.order_by("pk").first()
    checks = campaign_link_checks(campaign=campaign, customer=sample, refresh=True)
    messages.success(request, f"Checked {len(checks)} link{'s' if len(checks) != 1 else ''} again.")
    query = f"?{urlencode({'customer': customer.pk})}" if customer else ""
    return redirect(reverse("campaigns:preview", args=[campaign.pk]) + query + "#links")
