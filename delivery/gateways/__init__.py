from delivery.gateways.base import Gateway, OutgoingMessage, Receipt, SubmitResult
from delivery.gateways.simulated import SimulatedGateway


def gateway_for(*, org_id: int, channel: str) -> Gateway:
    """The gateway adapter an org sends a channel through. Only the simulated gateway is wired in so far."""
    return SimulatedGateway.from_settings()


__all__ = ["Gateway", "OutgoingMessage", "Receipt", "SubmitResult", "gateway_for"]
