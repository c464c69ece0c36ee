from celery import shared_task

from campaigns.dispatch import campaign_dispatch


@shared_task
def campaign_dispatch_task(campaign_id: int) -> None:
    campaign_dispatch(campaign_id=campaign_id)
