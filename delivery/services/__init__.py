"""delivery's operations: handing messages to gateways, applying what gateways report back, the gateway log.
Other apps call these through this module (campaigns.sending only; the import-linter contracts hold it); inside
delivery each lives in the module of its concept and they import each other directly."""

from delivery.services.bounces import bounce_apply
from delivery.services.gateway_log import exchanges_log, gateway_log_purge
from delivery.services.handover import messages_send
from delivery.services.message_counts import message_counts_differences, message_counts_merge
from delivery.services.receipts import (
    inbound_replies_apply,
    pending_receipts_apply,
    pending_receipts_purge,
    receipts_apply,
    receipts_expire,
    smpp_replies_apply,
)
from delivery.services.simulated_receipts import simulated_receipts_deliver

__all__ = [
    "bounce_apply",
    "exchanges_log",
    "gateway_log_purge",
    "inbound_replies_apply",
    "message_counts_differences",
    "message_counts_merge",
    "messages_send",
    "pending_receipts_apply",
    "pending_receipts_purge",
    "receipts_apply",
    "receipts_expire",
    "simulated_receipts_deliver",
    "smpp_replies_apply",
]
