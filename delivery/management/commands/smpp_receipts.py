"""Keep a transceiver bound to an SMPP gateway and apply what it delivers as it arrives: delivery receipts, and
customers' replies (a "STOP" unsubscribes them from SMS, as through an HTTP gateway's inbound webhook).

Run one per SMPP gateway configuration (it reconnects after a dropped session):
    manage.py smpp_receipts --gateway 3
"""

import time

import smpplib.exceptions
from django.core.management.base import BaseCommand, CommandError

from delivery import services
from delivery.gateways.addresses import Refused
from delivery.gateways.smpp import SmppGateway
from delivery.gateways.smpp_inbound import SmppReply
from delivery.models import GatewayConfig


class Command(BaseCommand):
    help = (
        "Listen for deliver_sm of one SMPP gateway configuration: apply delivery receipts, and unsubscribe "
        "customers who reply STOP."
    )

    def add_arguments(self, parser):
        parser.add_argument("--gateway", type=int, required=True, help="GatewayConfig id (kind smpp)")
        parser.add_argument("--seconds", type=float, default=0, help="Stop after this long (default: run forever)")
        parser.add_argument("--reconnect-delay", type=float, default=5.0)

    def handle(self, *args, gateway: int, seconds: float, reconnect_delay: float, **options):
        config = GatewayConfig.objects.filter(pk=gateway, kind=GatewayConfig.Kind.SMPP).first()
        if config is None:
            raise CommandError(f"There is no SMPP gateway configuration with id {gateway}.")
        adapter = SmppGateway.from_config(config.settings, config.credentials)
        applied = replies = unsubscribed = 0

        def apply(receipt) -> None:
            nonlocal applied
            applied += services.receipts_apply(
                receipts=[receipt], org_id=config.org_id, config=config, gateway_kind="smpp"
            )

        def reply(smpp_reply: SmppReply) -> None:
            nonlocal replies, unsubscribed
            if smpp_reply.reply is not None:
                replies += 1
            else:
                self.stderr.write(f"SMPP reply not read: {smpp_reply.problem}")
            unsubscribed += services.smpp_replies_apply(config=config, replies=[smpp_reply])

        deadline = time.monotonic() + seconds if seconds else None
        while deadline is None or time.monotonic() < deadline:
            session = (deadline - time.monotonic()) if deadline else 3600.0
            try:
                adapter.listen(seconds=max(session, 0.0), on_receipt=apply, on_reply=reply)
            except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError, Refused) as error:
                self.stderr.write(f"SMPP session to {config} ended: {error!r}; reconnecting")
                time.sleep(reconnect_delay if deadline is None else min(reconnect_delay, 0.1))
        self.stdout.write(f"{applied} receipt(s) applied, {replies} reply(ies) read, {unsubscribed} unsubscribed")
