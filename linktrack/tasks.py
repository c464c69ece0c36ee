"""Celery entry points of linktrack: the click flush (Celery beat), which stores the click stream in batches and
keeps the click counters, the counters' upkeep, and the click table's months (partitions ahead, retention)."""

from celery import shared_task

from linktrack.click_partitions import click_partitions_keep
from linktrack.counts.upkeep import click_counters_build, click_counters_merge, click_counters_verify
from linktrack.redirect.click_flush import clicks_flush


@shared_task
def clicks_flush_task() -> int:
    return clicks_flush()


@shared_task
def click_counters_merge_task() -> int:
    return click_counters_merge()


@shared_task
def click_counters_verify_task() -> int:
    """The nightly check: every difference is logged as a warning; repairing is left to a person
    (manage.py verify_click_counters --repair), who can see why first."""
    return len(click_counters_verify())


@shared_task
def click_counters_build_task(*, org_id: int | None = None, everything: bool = False) -> int:
    """Count an org's clicks again, e.g. on its new clock after its time zone changed."""
    return click_counters_build(org_id=org_id, everything=everything)


@shared_task
def click_partitions_task() -> int:
    """Hourly: partitions for the months ahead, old months dropped under CLICK_RETENTION_MONTHS; returns the
    partitions created."""
    return len(click_partitions_keep().created)
