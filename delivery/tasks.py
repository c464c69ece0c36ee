from celery import shared_task

from delivery import services


@shared_task(acks_late=True)
def messages_send_task(message_ids: list[int]) -> int:
    # Safe to run twice: messages_send claims each message before sending it.
    return len(services.messages_send(message_ids=message_ids))


@shared_task
def receipts_simulate_task(gateway_message_ids: list[str]) -> int:
    return services.simulated_receipts_deliver(gateway_message_ids=gateway_message_ids)
