"""Celery entry point of the lifecycle: the summary emails of finished campaigns (Celery beat)."""

from celery import shared_task

from campaigns.lifecycle.summary_email import campaign_summaries_send


@shared_task(name="campaigns.tasks.campaign_summaries_send_task")
def campaign_summaries_send_task() -> int:
    # Safe to run twice or on two workers at once: each summary is claimed with a conditional UPDATE before it goes.
    return campaign_summaries_send()
