"""Gateway adapters (simulated, HTTP, SMPP, SMTP), their error-code tables and receipt webhooks' parsing, and
choosing an org's gateway. Imports delivery's models and reasons, campaigns.base, linktrack.common."""

from django.conf import settings

from delivery.gateways.base import Exchange, Gateway, OutgoingMessage, Receipt, SubmitResult
from delivery.gateways.email import EmailGateway
from delivery.gateways.http import DEFAULT_BACKOFF, DEFAULT_RETRIES, DEFAULT_TIMEOUT, HttpGateway
from delivery.gateways.ratelimit import RateLimiter
from delivery.gateways.simulated import SimulatedGateway
from delivery.gateways.smpp import SmppGateway
from delivery.models import GatewayConfig


def gateway_config_for(*, org_id: int, channel: str):
    return GatewayConfig.objects.filter(org_id=org_id, channel=channel, is_active=True).first()


def gateway_from_config(config) -> Gateway:
    """Build the adapter a GatewayConfig describes."""

    options, secrets = config.settings or {}, config.credentials or {}

    limiter = RateLimiter(
        key=f"gateway-{config.pk}",
        per_second=float(options.get("rate_per_second", 0) or 0),
        redis_url=settings.GATEWAY_RATE_REDIS_URL,
    )
    if config.kind == GatewayConfig.Kind.HTTP:
        return HttpGateway(
            url=options["url"],
            api_key=secrets.get("api_key", ""),
            timeout=float(options.get("timeout", DEFAULT_TIMEOUT)),
            max_retries=int(options.get("max_retries", DEFAULT_RETRIES)),
            backoff=float(options.get("backoff", DEFAULT_BACKOFF)),
            callback_url=options.get("callback_url", ""),
            limiter=limiter,
            deduplicates_message_ids=options.get("drops_repeated_reference") in (True, "true", "on", "1", 1),
        )
    if config.kind == GatewayConfig.Kind.SMPP:
        gateway = SmppGateway.from_config(options, secrets)
        gateway.limiter = limiter
        return gateway
    if config.kind == GatewayConfig.Kind.EMAIL:
        return EmailGateway.from_config(options, secrets)
    return SimulatedGateway.from_settings(options)


def gateway_for(*, org_id: int, channel: str) -> Gateway:
    """The gateway adapter an org sends a channel through.

    No configuration: the embedded defaults, the simulated gateway for SMS and Django's email backend (a local
    outbox in the embedded mode) for email.
    """
    config = gateway_config_for(org_id=org_id, channel=channel)
    if config is not None:
        return gateway_from_config(config)
    if channel == "email":
        return EmailGateway.from_config({}, {})
    return SimulatedGateway.from_settings()


__all__ = ["Exchange", "Gateway", "OutgoingMessage", "Receipt", "SubmitResult", "gateway_for"]
