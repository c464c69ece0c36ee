"""The gateway log is kept GATEWAY_LOG_KEEP_DAYS, then purged in bounded batches."""

from datetime import timedelta

from django.conf import settings as django_settings
from django.utils import timezone

from delivery import services
from delivery.models import GatewayExchange
from linktrack.celery import app as celery_app


def _exchanges(count: int, age: timedelta, operation: str) -> None:
    GatewayExchange.objects.bulk_create(
        GatewayExchange(created_at=timezone.now() - age, gateway_kind="http", operation=operation, request=f"#{n}")
        for n in range(count)
    )


def test_exchanges_older_than_the_keep_period_are_purged_over_several_bounded_runs(db, settings):
    # given 7 exchanges from 100 days ago and 3 from 10 days ago, kept 90 days
    settings.GATEWAY_LOG_KEEP_DAYS = 90
    _exchanges(7, timedelta(days=100), "submit")
    _exchanges(3, timedelta(days=10), "receipt")

    # when the purge runs with batches of 2, at most 3 batches a run
    first = services.gateway_log_purge(batch_size=2, max_batches=3)
    second = services.gateway_log_purge(batch_size=2, max_batches=3)

    # then the first run stops at 6, the second takes the last old one, and the recent ones stay
    assert (first, second) == (6, 1)
    assert sorted(GatewayExchange.objects.values_list("operation", flat=True)) == ["receipt"] * 3
    assert services.gateway_log_purge() == 0


def test_the_purge_runs_hourly_from_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["gateway-log-purge"]
    assert entry["task"] in celery_app.tasks and entry["schedule"] == 3600.0
