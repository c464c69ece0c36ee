"""Check that a gateway configuration reaches its gateway, without sending a message (support staff run it from
the admin after entering or changing a gateway). Each check is kept in the gateway log, secrets redacted."""

import time
from dataclasses import dataclass

from delivery.gateways import gateway_from_config
from delivery.gateways.base import Exchange
from delivery.models import GatewayConfig
from delivery.services import exchanges_log


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    detail: str  # what was reached, or what went wrong, in words
    duration_ms: int


def gateway_connection_check(*, config: GatewayConfig) -> ConnectionCheck:
    started = time.monotonic()
    try:
        detail, ok = gateway_from_config(config).connection_check(), True
    except Exception as error:  # any failure (DNS, refused, TLS, bind, login, bad settings) is the answer
        detail, ok = f"{type(error).__name__}: {error}", False
    duration_ms = int((time.monotonic() - started) * 1000)
    exchanges_log(
        config=config,
        gateway_kind=config.kind,
        exchanges=[
            (None, Exchange("check", "connection check", detail if ok else "", "" if ok else detail, duration_ms))
        ],
    )
    return ConnectionCheck(ok=ok, detail=detail, duration_ms=duration_ms)
