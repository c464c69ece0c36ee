"""Webhooks of HTTP gateways: receipts and customers' replies. Gateways call these, so no session and no CSRF
token; each is authenticated by its signature (delivery.gateways.webhooks), then handed to delivery.services."""

import logging
import time

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from delivery import services
from delivery.gateways.base import Exchange
from delivery.gateways.webhooks import (
    GUPSHUP,
    INFOBIP,
    TWILIO,
    WebhookRefused,
    authenticate,
    parse_inbound,
    parse_receipts,
)
from delivery.models import GatewayConfig

logger = logging.getLogger(__name__)


def webhook_url(request, path: str) -> str:
    """The address gateways reach `path` at: WEBHOOK_BASE_URL behind a proxy, else the request's own."""
    if settings.WEBHOOK_BASE_URL:
        return settings.WEBHOOK_BASE_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


FORM = "application/x-www-form-urlencoded"


def _authenticated(request, config: GatewayConfig) -> tuple[str, dict[str, list[str]]]:
    receipt_format = config.settings.get("receipt_format", INFOBIP)
    # The body first: parsing a multipart POST reads the request's stream and leaves no body to check a signature
    # of (or to log).
    body = request.body
    if receipt_format == TWILIO:
        # Twilio posts its parameters as a form; any other body carries none, and its signature fails.
        params = dict(request.POST.lists()) if request.content_type == FORM else {}
    elif receipt_format == GUPSHUP and request.method == "GET":
        params = dict(request.GET.lists())
    else:
        params = {}
    authenticate(
        receipt_format=receipt_format,
        credentials=config.credentials,
        url=webhook_url(request, request.get_full_path()),
        headers=request.headers,
        params=params,
        body=body,
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
