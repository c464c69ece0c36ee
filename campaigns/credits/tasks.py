"""Celery entry point of credits: the low-credit alerts (Celery beat)."""

from celery import shared_task

from campaigns.credits.alerts import credit_alerts_send


@shared_task(name="campaigns.tasks.credit_alerts_send_task")
def credit_alerts_send_task() -> int:
    # Safe to run twice or on two workers at once: each org's alert is claimed with a conditional UPDATE first.
    return credit_alerts_send()
