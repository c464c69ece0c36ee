"""Celery entry points of delivery: sending a batch, and the periodic clean-ups. Each calls one service."""

from celery import shared_task

from delivery import services


@shared_task(acks_late=True)
def messages_send_task(message_ids: list[int]) -> int:
    # Safe to run twice: messages_send claims each message before sending it.
    return len(services.messages_send(message_ids=message_ids))


@shared_task
def receipts_expire_task() -> int:
    # Safe to run twice: only messages still waiting are moved, in one bounded batch.
    return services.receipts_expire()


@shared_task
def pending_receipts_purge_task() -> int:
    return services.pending_receipts_purge()


@shared_task
def message_counts_merge_task() -> int:
    return services.message_counts_merge()


@shared_task
def gateway_log_purge_task() -> int:
    return services.gateway_log_purge()
