"""Celery entry points for customer and NDNC imports (registered through CELERY_IMPORTS in settings; each keeps the name it had before the code moved).

An import may run again after a worker died (acks_late): it updates what the first run imported, never
duplicates, and a finished job is not run twice.
"""

from celery import shared_task

from campaigns.base.csv_imports import import_job_run
from campaigns.customers.customer_import import import_customers
from campaigns.customers.ndnc import import_ndnc


@shared_task(name="campaigns.import_tasks.customers_import_task", acks_late=True)
def customers_import_task(job_id: str) -> None:
    import_job_run(job_id, import_customers)


@shared_task(name="campaigns.import_tasks.ndnc_import_task", acks_late=True)
def ndnc_import_task(job_id: str) -> None:
    import_job_run(job_id, import_ndnc)
