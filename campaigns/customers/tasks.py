"""Celery entry points for customer, NDNC and transaction imports, and attribution's periodic job (registered through CELERY_IMPORTS in settings; each keeps the name it had before the code moved).

An import may run again after a worker died (acks_late): it updates what the first run imported, never
duplicates, and a finished job is not run twice.
"""

from celery import shared_task

from campaigns.base.csv_imports import import_job_run
from campaigns.customers.attribution import org_transactions_reattribute, transactions_reattribute_recent
from campaigns.customers.customer_import import import_customers
from campaigns.customers.ndnc import import_ndnc
from campaigns.customers.transaction_import import import_transactions
from campaigns.models import Org


@shared_task(name="campaigns.import_tasks.customers_import_task", acks_late=True)
def customers_import_task(job_id: str) -> None:
    import_job_run(job_id, import_customers)


@shared_task(name="campaigns.import_tasks.ndnc_import_task", acks_late=True)
def ndnc_import_task(job_id: str) -> None:
    import_job_run(job_id, import_ndnc)


@shared_task(name="campaigns.customers.tasks.transactions_import_task", acks_late=True)
def transactions_import_task(job_id: str) -> None:
    import_job_run(job_id, import_transactions)


@shared_task(name="campaigns.customers.tasks.transactions_reattribute_task")
def transactions_reattribute_task() -> int:
    """Periodic: the recent purchases attributed again, as late receipts and clicks may change what they count for."""
    return transactions_reattribute_recent()


@shared_task(name="campaigns.customers.tasks.org_transactions_reattribute_task", acks_late=True)
def org_transactions_reattribute_task(org_id: int) -> int:
    """Every purchase of an org attributed again (its window changed)."""
    org = Org.objects.filter(pk=org_id).first()
    return org_transactions_reattribute(org=org) if org else 0
