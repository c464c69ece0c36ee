"""The simulated gateway's receipts: scheduled after a hand-over, applied as a real gateway's would be."""

from celery import shared_task
from django.conf import settings
from django.db import transaction

from delivery.gateways.simulated import SimulatedGateway
from delivery.models import GatewayConfig
from delivery.services.receipts import receipts_apply


def simulated_receipts_schedule(gateway_message_ids: list[str], config: GatewayConfig | None) -> None:
    config_id = config.pk if config else None
    transaction.on_commit(
        lambda: receipts_simulate_task.apply_async(
            (gateway_message_ids, config_id), countdown=settings.SIMULATED_RECEIPT_DELAY_SECONDS
        )
    )


def simulated_receipts_deliver(*, gateway_message_ids: list[str], gateway_config_id: int | None = None) -> int:
    config = GatewayConfig.objects.filter(pk=gateway_config_id).first() if gateway_config_id else None
    gateway = SimulatedGateway.from_settings(config.settings if config else None)
    return receipts_apply(receipts=gateway.receipts_for(gateway_message_ids), config=config, gateway_kind="simulated")


# Beside what it schedules (not in delivery.tasks, which imports the hand-over that schedules it); the name it was
# queued under before the code moved.
@shared_task(name="delivery.tasks.receipts_simulate_task")
def receipts_simulate_task(gateway_message_ids: list[str], gateway_config_id: int | None = None) -> int:
    return simulated_receipts_deliver(gateway_message_ids=gateway_message_ids, gateway_config_id=gateway_config_id)
