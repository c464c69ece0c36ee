import logging
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.base.access import get_campaign_for_user
from delivery import reasons, selectors, services
from delivery.gateways.base import Exchange
from delivery.models import GatewayConfig, Message
from delivery.webhooks import GUPSHUP, INFOBIP, TWILIO, WebhookRefused, authenticate, parse_inbound, parse_receipts
from linktrack.common.csv_export import csv_download

logger = logging.getLogger(__name__)


def _group_or_404(group: str) -> str:
    if group not in reasons.GROUP_TITLES:
        raise Http404("no such group")
    return group


# Messages still waiting are resent under the "no receipt" outcome (the resend page counts them there).
_RESEND_AS = {"pending": "no_receipt"}


def _resend_url(campaign_pk: int, reason_code: str) -> str:
    """The resend page for one reason, when the campaigns app offers it."""
    reason_code = _RESEND_AS.get(reason_code, reason_code)
    try:
        return reverse("campaigns:resend", args=[campaign_pk]) + "?" + urlencode({"reason": reason_code})
    except NoReverseMatch:
        return ""


@login_required
def campaign_delivery_details(request, pk: int, group: str):
    campaign = get_campaign_for_user(request.user, pk)
    group = _group_or_404(group)
    counts = selectors.delivery_counts(campaign_id=campaign.pk)
    rows = selectors.reason_breakdown(campaign_id=campaign.pk, group=group, total=counts.total)
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
                    "resend_url": _resend_url(campaign.pk, row.reason.code) if row.reason.retryable else "",
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
    reason_code = request.GET.get("reason", "")
    messages = selectors.reason_messages(campaign_id=campaign.pk, group=group, reason_code=reason_code)

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
                message.sent_at.isoformat() if message.sent_at else "",
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
    filename = f"campaign-{campaign.pk}-{group}{'-' + reason_code if reason_code else ''}.csv"
    return csv_download(header, rows(), filename=filename)


@staff_member_required
def message_gateway_log(request, pk: int):
    """Support staff: every exchange with the gateway about one message, secrets redacted."""
    message = get_object_or_404(Message.with_proofs.select_related("campaign__org"), pk=pk)
    return render(
        request,
        "delivery/message_log.html",
        {
            "message": message,
            "masked": selectors.masked_recipient(message.recipient),
            "reason": reasons.reason_for(selectors.reason_of(message)) if message.status != "delivered" else None,
            "exchanges": message.exchanges.order_by("created_at", "pk"),
        },
    )


# --- Webhooks: gateways call these, so no session and no CSRF token; each is authenticated by its signature. ---


def public_url(request, path: str) -> str:
    """The address gateways reach `path` at: WEBHOOK_BASE_URL behind a proxy, else the request's own."""
    if settings.WEBHOOK_BASE_URL:
        return settings.WEBHOOK_BASE_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def _authenticated(request, config: GatewayConfig) -> tuple[str, dict[str, list[str]]]:
    receipt_format = config.settings.get("receipt_format", INFOBIP)
    if receipt_format == TWILIO:
        params = dict(request.POST.lists())
    elif receipt_format == GUPSHUP and request.method == "GET":
        params = dict(request.GET.lists())
    else:
        params = {}
    authenticate(
        receipt_format=receipt_format,
        credentials=config.credentials,
        url=public_url(request, request.get_full_path()),
        headers=request.headers,
        params=params,
        body=request.body,
    )
    return receipt_format, params


def _refused(request, config: GatewayConfig, operation: str, refused: WebhookRefused, started: float):
    logger.warning("refused %s webhook for gateway %s: %s", operation, config.pk, refused.why)
    services.exchanges_log(
        config=config,
        gateway_kind=config.kind,
        exchanges=[
            (
                None,
                Exchange(
                    operation,
                    request=request.body.decode("utf-8", "replace")[:4000],
                    response=str(refused.status),
                    error=f"refused: {refused.why}",
                    duration_ms=int((time.monotonic() - started) * 1000),
                ),
            )
        ],
    )
    return HttpResponse(refused.why, status=refused.status, content_type="text/plain")


@csrf_exempt
@require_POST
def receipt_webhook(request, gateway_id: int):
    started = time.monotonic()
    config = get_object_or_404(GatewayConfig, pk=gateway_id, kind=GatewayConfig.Kind.HTTP)
    try:
        receipt_format, params = _authenticated(request, config)
        receipts = parse_receipts(receipt_format=receipt_format, params=params, body=request.body)
    except WebhookRefused as refused:
        return _refused(request, config, "receipt", refused, started)
    services.receipts_apply(receipts=receipts, org_id=config.org_id, config=config, gateway_kind=config.kind)
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def inbound_webhook(request, gateway_id: int):
    """STOP replies. Gateways POST them, except Gupshup, which calls its keyword response URL with a GET."""
    started = time.monotonic()
    config = get_object_or_404(GatewayConfig, pk=gateway_id, kind=GatewayConfig.Kind.HTTP)
    if request.method == "GET" and config.settings.get("receipt_format") != GUPSHUP:
        return HttpResponseNotAllowed(["POST"])
    try:
        receipt_format, params = _authenticated(request, config)
        replies = parse_inbound(receipt_format=receipt_format, params=params, body=request.body)
    except WebhookRefused as refused:
        return _refused(request, config, "inbound", refused, started)
    services.inbound_replies_apply(config=config, replies=replies)
    raw = "&".join(f"{k}={v}" for k in sorted(params) for v in params[k]) or request.body.decode("utf-8", "replace")
    services.exchanges_log(
        config=config,
        gateway_kind=config.kind,
        exchanges=[(None, Exchange("inbound", raw[:4000], "200", "", int((time.monotonic() - started) * 1000)))],
    )
    if receipt_format == GUPSHUP:
        # Gupshup texts back whatever a keyword URL answers unless it is its XML: an empty response sends nothing
        return HttpResponse("<response></response>", content_type="application/xml")
    return HttpResponse("ok", content_type="text/plain")
