"""The supervisor's periodic entry point (Celery beat). Apart from campaigns.sending.tasks because the supervisor
queues those tasks again."""

from celery import shared_task

from campaigns.sending.supervisor import campaigns_supervise


@shared_task(name="campaigns.tasks.campaigns_supervise_task")
def campaigns_supervise_task() -> dict[str, int]:
    return campaigns_supervise()
