from celery import shared_task

from linktrack import services


@shared_task
def clicks_flush_task() -> int:
    return services.clicks_flush()
