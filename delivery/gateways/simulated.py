"""The embedded gateway: accepts messages, then reports receipts with a reproducible mix of outcomes."""

import random
from dataclasses import dataclass
from itertools import accumulate

from django.conf import settings

from delivery.gateways.base import Exchange, OutgoingMessage, Receipt, SubmitResult

# outcome -> (receipt state, reason code, the error code a real gateway would report)
OUTCOMES = {
    "delivered": ("delivered", "", ""),
    "ndnc": ("not_delivered", "ndnc", "DLT:NDNC"),
    "dlt_sender_id": ("not_delivered", "dlt_sender_id", "DLT:621"),
    "dlt_template": ("not_delivered", "dlt_template", "DLT:630"),
    "undeliverable": ("not_delivered", "undeliverable", "UNDELIV"),
    "expired": ("not_delivered", "expired", "EXPIRED"),
    "no_receipt": (None, "", ""),
}


def parse_mix(mix: str) -> list[tuple[str, int]]:
    pairs = []
    for item in mix.split(","):
        outcome, _, weight = item.strip().partition(":")
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown simulated outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
        pairs.append((outcome, int(weight)))
    return pairs


@dataclass
class SimulatedGateway:
    seed: int
    mix: list[tuple[str, int]]
    name: str = "simulated"

    def __post_init__(self):
        # random.choices with cumulative weights picks exactly as with the weights, without summing them per call.
        self._outcomes = [outcome for outcome, _ in self.mix]
        self._cumulative_weights = list(accumulate(weight for _, weight in self.mix))

    @classmethod
    def from_settings(cls, options: dict | None = None) -> "SimulatedGateway":
        """The deployment's seed and mix, or those of an org's simulated gateway configuration."""
        options = options or {}
        return cls(
            seed=int(options.get("seed", settings.SIMULATED_GATEWAY_SEED)),
            mix=parse_mix(options.get("mix") or settings.SIMULATED_GATEWAY_MIX),
        )

    def connection_check(self) -> str:
        return "the simulated gateway needs no connection"

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SubmitResult]:
        # Operators report nothing for promotional (numeric) senders: the id remembers it, as a real one would.
        results = []
        for m in messages:
            gateway_message_id = f"sim-{'p' if m.promotional else 't'}-{m.message_id}"
            request = f"simulated submit to {m.recipient} from {m.sender} (DLT template {m.dlt_template_id})"
            exchange = Exchange("submit", request, f"accepted as {gateway_message_id}")
            results.append(SubmitResult(m.message_id, True, gateway_message_id, exchanges=(exchange,)))
        return results

    def outcome(self, gateway_message_id: str) -> str:
        """The same id always gets the same outcome for a given seed."""
        rng = random.Random(f"{self.seed}:{gateway_message_id}")
        return rng.choices(self._outcomes, cum_weights=self._cumulative_weights)[0]

    def receipts_for(self, gateway_message_ids: list[str]) -> list[Receipt]:
        receipts = []
        for gateway_message_id in gateway_message_ids:
            if gateway_message_id.startswith("sim-p-"):
                receipts.append(
                    Receipt(gateway_message_id, "unknown", "operator_no_report", raw="simulated: no report")
                )
                continue
            outcome = self.outcome(gateway_message_id)
            state, reason_code, error = OUTCOMES[outcome]
            if state is not None:
                receipts.append(Receipt(gateway_message_id, state, reason_code, error, raw=f"simulated: {outcome}"))
        return receipts
