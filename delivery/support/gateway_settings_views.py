"""Support pages for an org's gateways: add one of a kind, change it, check its connection."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from campaigns.base.access import staff_required
from campaigns.base.forms import add_service_errors
from campaigns.models import Org
from delivery.gateways.webhooks import TWILIO
from delivery.models import GatewayConfig
from delivery.support.gateway_check import gateway_connection_check
from delivery.support.gateway_settings import SETTINGS, gateway_config_save
from delivery.support.gateway_settings_forms import GatewayConfigForm
from delivery.webhook_views import webhook_url


@staff_required
def gateway_new(request, org_pk: int, kind: str):
    org = get_object_or_404(Org, pk=org_pk)
    if kind not in SETTINGS:
        raise Http404("No such kind of gateway.")
    return _gateway_page(request, org, kind, config=None)


@staff_required
def gateway_edit(request, pk: int):
    config = get_object_or_404(GatewayConfig.objects.select_related("org"), pk=pk)
    return _gateway_page(request, config.org, config.kind, config=config)


@staff_required
@require_POST
def gateway_check(request, pk: int):
    config = get_object_or_404(GatewayConfig, pk=pk)
    check = gateway_connection_check(config=config)
    level = messages.success if check.ok else messages.error
    level(
        request, f"{'Reached' if check.ok else 'Could not reach the gateway'} in {check.duration_ms} ms: {check.detail}"
    )
    return redirect("support:gateway", pk=config.pk)


def _gateway_page(request, org: Org, kind: str, *, config: GatewayConfig | None):
    initial = {"is_active": True}
    if config is not None:
        initial = {"name": config.name, "channel": config.channel, "is_active": config.is_active, **config.settings}
    stored = set(config.credentials) if config else set()
    form = GatewayConfigForm(request.POST or None, initial=initial, kind=kind, stored_secrets=stored)
    if request.method == "POST" and form.is_valid():
        try:
            config = gateway_config_save(
                org=org,
                user=request.user,
                kind=kind,
                channel=form.cleaned_data["channel"],
                name=form.cleaned_data["name"],
                settings=form.settings,
                new_secrets=form.new_secrets,
                cleared_secrets=form.cleared_secrets,
                is_active=form.cleaned_data["is_active"],
                config=config,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Gateway “{config}” saved.")
            return redirect("support:gateway", pk=config.pk)
    return render(
        request,
        "delivery/gateway_settings.html",
        {"org": org, "kind": GatewayConfig.Kind(kind), "config": config, "form": form, **_webhooks(request, config)},
    )


def _webhooks(request, config: GatewayConfig | None) -> dict:
    """Where an HTTP gateway must post receipts and replies, and how it proves it is the gateway."""
    if config is None or config.pk is None or config.kind != GatewayConfig.Kind.HTTP:
        return {}
    twilio = config.settings.get("receipt_format") == TWILIO
    return {
        "receipt_url": webhook_url(request, reverse("delivery:receipts", args=[config.pk])),
        "inbound_url": webhook_url(request, reverse("delivery:inbound", args=[config.pk])),
        "signature": "X-Twilio-Signature, signed with auth_token"
        if twilio
        else "X-Signature: sha256=<HMAC of the body with webhook_secret>, or Authorization: Bearer <webhook_token>",
    }
