"""Celery entry points of insights: the click webhooks' deliveries (Celery beat queues the due ones)."""

from celery import shared_task

from insights.webhooks import deliveries as click_webhooks


@shared_task
def click_webhooks_deliver_task() -> int:
    """Periodic (beat, every 30 s): one delivery task per webhook that is due, so a slow endpoint delays no other."""
    webhook_ids = click_webhooks.due_webhook_ids()
    for webhook_id in webhook_ids:
        click_webhook_deliver_task.delay(webhook_id)
    return len(webhook_ids)


@shared_task
def click_webhook_deliver_task(webhook_id: int) -> int:
    # Queued twice, or still queued when the next tick queues it again: the claim lets only one run deliver.
    return click_webhooks.click_webhook_deliver(webhook_id=webhook_id)
