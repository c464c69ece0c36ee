"""View Details: a campaign's messages that were not sent or not delivered, by reason, and their CSV."""

import logging
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from campaigns.base.access import get_campaign_for_user
from delivery import reasons
from delivery.reports import selectors
from linktrack.common.csv_export import csv_download

logger = logging.getLogger(__name__)


def _group_or_404(group: str) -> str:
    if group not in reasons.GROUP_TITLES:
        raise Http404("no such group")
    return group


def _reason_or_404(group: str, reason_code: str) -> str:
    """ "" (every reason of the group) or one of the group's reasons in the catalogue; anything else is not found."""
    if reason_code and reason_code not in {reason.code for reason in reasons.reasons_in(group)}:
        raise Http404("no such reason in this group")
    return reason_code


# Messages still waiting are resent under the "no receipt" outcome (the resend page counts them there).
_RESEND_AS = {"pending": "no_receipt"}


def _resend_url(campaign_pk: int, reason_code: str) -> str:
    """The resend page for one reason, when the campaigns app offers it."""
    reason_code = _RESEND_AS.get(reason_code, reason_code)
    try:
        return reverse("campaigns:resend", args=[campaign_pk]) + "?" + urlencode({"reason": reason_code})
    except NoReverseMatch:
        return ""


def _resendable(campaign, reason: reasons.Reason) -> bool:
    """A retryable reason, except a missing receipt where none is ever sent (a promotional sender's SMS)."""
    if reason.code in _RESEND_AS or reason.code in _RESEND_AS.values():
        return reason.retryable and campaign.template.delivery_is_reported
    return reason.retryable


@login_required
def campaign_delivery_details(request, pk: int, group: str):
    campaign = get_campaign_for_user(request.user, pk)
    group = _group_or_404(group)
    counts = selectors.delivery_counts(campaign_id=campaign.pk)
    rows = selectors.reason_breakdown(
        campaign_id=campaign.pk, group=group, total=counts.total, group_share=counts.group_percent(group)
    )
    return render(
        request,
        "delivery/details.html",
        {
            "campaign": campaign,
            "group": group,
            "group_title": reasons.GROUP_TITLES[group],
            "counts": counts,
            "group_count": sum(row.count for row in rows),
            "rows": [
                {
                    "row": row,
                    "sample": [(message, selectors.masked_recipient(message.recipient)) for message in row.sample],
                    "resend_url": _resend_url(campaign.pk, row.reason.code)
                    if _resendable(campaign, row.reason)
                    else "",
                }
                for row in rows
            ],
        },
    )


@login_required
def campaign_delivery_export(request, pk: int, group: str):
    """Every affected recipient of a group (or of one reason), streamed as CSV."""
    campaign = get_campaign_for_user(request.user, pk)
    group = _group_or_404(group)
    reason_code = _reason_or_404(group, request.GET.get("reason", ""))
    messages = selectors.reason_messages(campaign_id=campaign.pk, group=group, reason_code=reason_code)

    zone = ZoneInfo(campaign.org.timezone)  # times on the org's clock, with its offset (2026-11-20T10:15:00+05:30)

    def rows():
        for message in messages.iterator(chunk_size=2000):
            code = selectors.reason_of(message)
            yield [
                message.recipient,
                message.customer.external_id,
                message.customer.name,
                code,
                reasons.reason_for(code).title,
                message.gateway_error,
                message.get_status_display(),
                message.sent_at.astimezone(zone).isoformat(timespec="seconds") if message.sent_at else "",
            ]

    header = [
        "recipient",
        "customer_id",
        "customer_name",
        "reason_code",
        "reason",
        "gateway_error",
        "status",
        "sent_at",
    ]
    # Built from known values only (the group and the reason were checked against the catalogue): a name taken from
    # the query would let a link choose the file's name, or break the header.
    filename = f"campaign-{campaign.pk}-{group}{'-' + reason_code if reason_code else ''}.csv"
    return csv_download(header, rows(), filename=filename)
