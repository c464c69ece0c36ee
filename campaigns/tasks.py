from celery import shared_task

from campaigns.dispatch import campaign_dispatch


@shared_task
def campaign_dispatch_task(campaign_id: int) -> None:
    # Safe to run twice: each batch locks the campaign and skips customers who already have a message.
    campaign_dispatch(campaign_id=campaign_id)


@shared_task
def campaigns_supervise_task() -> dict[str, int]:
    from campaigns.supervisor import campaigns_supervise  # imports this module's tasks

    return campaigns_supervise()


@shared_task
def campaign_summaries_send_task() -> int:
    # Safe to run twice or on two workers at once: each summary is claimed with a conditional UPDATE before it goes.
    from campaigns.summary_email import campaign_summaries_send

    return campaign_summaries_send()


@shared_task
def credit_alerts_send_task() -> int:
    # Safe to run twice or on two workers at once: each org's alert is claimed with a conditional UPDATE first.
    from campaigns.credit_alerts import credit_alerts_send

    return credit_alerts_send()


@shared_task(acks_late=True)
def proof_hand_over_task(proof_id: int) -> int:
    # Safe to run twice: sending claims each message, and the credits are settled from the messages' states.
    from campaigns.proofs import proof_hand_over

    return proof_hand_over(proof_id=proof_id)
