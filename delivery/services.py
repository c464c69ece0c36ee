"""Hand messages to gateways and apply what the gateways report back."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from delivery.gateways import OutgoingMessage, Receipt, gateway_for
from delivery.gateways.simulated import SimulatedGateway
from delivery.models import Message

logger = logging.getLogger(__name__)

_RECEIPT_STATUS = {
    "delivered": Message.Status.DELIVERED,
    "not_delivered": Message.Status.NOT_DELIVERED,
    "unknown": Message.Status.UNKNOWN,
}


def messages_send(*, message_ids: list[int]) -> list[int]:
    """Send the queued messages among `message_ids`; returns the ids the gateway accepted.

    Messages are claimed first (queued -> submitting, rows locked and skipped by other workers), so a task that
    runs twice, or two workers given the same ids, never hand one message to a gateway twice.
    """
    messages = _claim(message_ids)
    if not messages:
        return []
    campaign = messages[0].campaign
    gateway = gateway_for(org_id=campaign.org_id, channel=campaign.template.channel)
    sender = campaign.template.sender
    outgoing = [
        OutgoingMessage(
            message_id=m.pk,
            channel=m.channel,
            recipient=m.recipient,
            body=m.body,
            sender=sender.header if sender else "",
            dlt_entity_id=sender.dlt_entity_id if sender else "",
            dlt_template_id=campaign.template.dlt_template_id,
            promotional=bool(sender and sender.is_promotional),
        )
        for m in messages
    ]
    results = {r.message_id: r for r in gateway.send_batch(outgoing)}
    now = timezone.now()
    accepted = []
    for message in messages:
        result = results.get(message.pk)
        if result and result.accepted:
            message.status = Message.Status.SENT
            message.gateway_message_id = result.gateway_message_id
            message.sent_at = now
            accepted.append(message)
        else:
            message.status = Message.Status.NOT_SENT
            message.reason_code = result.reason_code if result else "gateway_bad_response"
            message.gateway_error = result.gateway_error if result else ""
            message.finished_at = now
    Message.objects.bulk_update(
        messages, ["status", "gateway_message_id", "sent_at", "reason_code", "gateway_error", "finished_at"]
    )
    if isinstance(gateway, SimulatedGateway) and accepted:
        _schedule_simulated_receipts([m.gateway_message_id for m in accepted])
    return [m.pk for m in accepted]


def _claim(message_ids: list[int]) -> list[Message]:
    with transaction.atomic():
        messages = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=message_ids, status=Message.Status.QUEUED)
            .select_related("campaign__template__sender")
            .order_by("pk")
        )
        Message.objects.filter(pk__in=[m.pk for m in messages]).update(status=Message.Status.SUBMITTING)
    return messages


def _schedule_simulated_receipts(gateway_message_ids: list[str]) -> None:
    from delivery.tasks import receipts_simulate_task

    transaction.on_commit(
        lambda: receipts_simulate_task.apply_async(
            (gateway_message_ids,), countdown=settings.SIMULATED_RECEIPT_DELAY_SECONDS
        )
    )


def receipts_apply(*, receipts: list[Receipt]) -> int:
    """Apply receipts; returns how many changed a message.

    Only a message still waiting (sent) moves: a final state is never overwritten, an intermediate receipt
    ("pending") changes nothing, and a repeated receipt finds its message already final.
    """
    changed = 0
    now = timezone.now()
    for receipt in receipts:
        status = _RECEIPT_STATUS.get(receipt.state)
        if status is None:
            continue
        changed += Message.objects.filter(
            gateway_message_id=receipt.gateway_message_id, status=Message.Status.SENT
        ).update(
            status=status,
            reason_code=receipt.reason_code,
            gateway_error=receipt.gateway_error,
            finished_at=now,
        )
    return changed


def simulated_receipts_deliver(*, gateway_message_ids: list[str]) -> int:
    return receipts_apply(receipts=SimulatedGateway.from_settings().receipts_for(gateway_message_ids))
