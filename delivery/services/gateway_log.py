"""The gateway log: every exchange with a gateway (requests, answers, errors, times), secrets redacted; purged
after GATEWAY_LOG_KEEP_DAYS."""

from datetime import timedelta

from django.conf import settings
from django.db import connection

from delivery.bulk import copy_rows
from delivery.gateways import (
    Exchange,
)
from delivery.gateways.base import redact
from delivery.models import GatewayConfig, GatewayExchange
from delivery.services import clock


def exchanges_log(
    *, config: GatewayConfig | None, gateway_kind: str, exchanges: list[tuple[int | None, Exchange]]
) -> None:
    """Keep each exchange in the message's gateway log, with the gateway's secrets redacted."""
    if not exchanges:
        return
    secrets = config.secret_values() if config else []
    rows = [
        (
            message_id,
            exchange.operation,
            redact(exchange.request, secrets),
            redact(exchange.response, secrets),
            redact(exchange.error, secrets) if exchange.error else "",
            exchange.duration_ms,
        )
        for message_id, exchange in exchanges
    ]
    shared = {"created_at": clock.now(), "gateway_id": config.pk if config else None, "gateway_kind": gateway_kind}
    if connection.vendor == "postgresql":
        copy_rows(GatewayExchange, _EXCHANGE_COLUMNS, rows, shared=shared)
    else:
        GatewayExchange.objects.bulk_create(
            [GatewayExchange(**shared, **dict(zip(_EXCHANGE_COLUMNS, row, strict=True))) for row in rows]
        )


_EXCHANGE_COLUMNS = ("message_id", "operation", "request", "response", "error", "duration_ms")


def gateway_log_purge(*, batch_size: int = 5000, max_batches: int = 20) -> int:
    """Gateway exchanges older than GATEWAY_LOG_KEEP_DAYS are dropped, a bounded number per run.

    The oldest rows have the lowest ids, so each batch is found by walking the primary key from the start and
    stops after `batch_size` rows: no index on the time is needed, and a big backlog goes over several runs."""
    cutoff = clock.now() - timedelta(days=settings.GATEWAY_LOG_KEEP_DAYS)
    deleted = 0
    for _ in range(max_batches):
        ids = list(
            GatewayExchange.objects.filter(created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        deleted += GatewayExchange.objects.filter(pk__in=ids).delete()[0]
    return deleted
