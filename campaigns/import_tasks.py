"""Celery entry points for customer and NDNC imports (registered through CELERY_IMPORTS in settings)."""

from celery import shared_task

from campaigns.customer_import import import_customers
from campaigns.imports import import_job_run
from campaigns.ndnc import import_ndnc


@shared_task
def customers_import_task(job_id: str) -> None:
    import_job_run(job_id, import_customers)


@shared_task
def ndnc_import_task(job_id: str) -> None:
    import_job_run(job_id, import_ndnc)
