"""Celery entry point of linktrack: the click flush (Celery beat), which stores the click stream in batches."""

from celery import shared_task

from linktrack.redirect.clicks import clicks_flush


@shared_task
def clicks_flush_task() -> int:
    return clicks_flush()
