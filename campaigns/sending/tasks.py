"""Celery entry points of sending: a campaign's dispatch and a test's hand-over. Each calls one service.
A task keeps the name it was queued under before the code moved, so a task waiting in the broker still runs."""

from celery import shared_task

from campaigns.sending.dispatch import campaign_dispatch, campaign_dispatch_batch
from campaigns.sending.test_hand_over import proof_hand_over


@shared_task(name="campaigns.tasks.campaign_dispatch_task")
def campaign_dispatch_task(campaign_id: int) -> None:
    # Safe to run twice: each batch locks the campaign and skips customers who already have a message.
    campaign_dispatch(campaign_id=campaign_id)


@shared_task
def campaign_dispatch_batch_task(campaign_id: int, plan: int, customer_ids: list[int], number: int = 0) -> None:
    # Safe to run twice: the unique campaign-customer constraint refuses a second message; the batch then prepares
    # only the customers still without one, and counts itself done only once.
    campaign_dispatch_batch(campaign_id=campaign_id, plan=plan, customer_ids=customer_ids, number=number)


@shared_task(name="campaigns.tasks.proof_hand_over_task", acks_late=True)
def proof_hand_over_task(proof_id: int) -> int:
    # Safe to run twice: sending claims each message, and the credits are settled from the messages' states.
    return proof_hand_over(proof_id=proof_id)
