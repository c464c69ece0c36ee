"""Every task of the project goes to one of the five queues, chosen on purpose, and the broker comes from the
environment: RabbitMQ (CELERY_BROKER_URL), else Redis (REDIS_URL), else tasks in-process."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from linktrack import queues
from linktrack.celery import app as celery_app
from tests import services, workers
from tests.local_peers import free_port
from tests.workers import ROOT, rabbitmq_virtual_host


def _project_tasks() -> set[str]:
    celery_app.loader.import_default_modules()
    return {name for name in celery_app.tasks if not name.startswith("celery.")}


def test_every_task_of_the_project_is_routed_to_one_of_the_five_queues():
    # given every task the workers register (the apps' tasks.py and CELERY_IMPORTS)
    tasks = _project_tasks()

    # then each is routed by name, to a known queue, and no route names a task that does not exist
    assert tasks, "no task registered: the test would prove nothing"
    assert tasks - set(queues.TASK_QUEUES) == set(), "route these tasks in linktrack/queues.py"
    assert set(queues.TASK_QUEUES) - tasks == set(), "these routes name no task"
    for task in tasks:
        queue = celery_app.amqp.router.route({}, task)["queue"]
        assert queue.name in queues.QUEUES and queue.name == queues.TASK_QUEUES[task]


def test_every_entry_of_beat_runs_a_routed_task():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in _project_tasks()
        assert celery_app.amqp.router.route({}, entry["task"])["queue"].name in queues.QUEUES


def test_a_launch_and_a_flood_of_receipts_go_to_different_queues():
    route = celery_app.amqp.router.route
    assert route({}, "campaigns.tasks.campaign_dispatch_task")["queue"].name == "dispatch"
    assert route({}, "delivery.tasks.messages_send_task")["queue"].name == "send"
    assert route({}, "delivery.tasks.receipts_simulate_task")["queue"].name == "receipts"
    assert route({}, "linktrack.tasks.clicks_flush_task")["queue"].name == "clicks"


def test_a_worker_given_no_queues_reads_all_five():
    assert [queue.name for queue in celery_app.conf.task_queues] == list(queues.QUEUES)
    assert celery_app.conf.task_default_queue == "default"


def test_tasks_are_acknowledged_when_done_and_one_is_held_at_a_time():
    assert celery_app.conf.task_acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True
    assert celery_app.conf.worker_prefetch_multiplier == 1


def _settings_in(environment: dict[str, str]) -> dict[str, str]:
    """The broker, cache and task mode a process would run with, in a fresh interpreter."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL); print(s.CELERY_TASK_ALWAYS_EAGER); print(s.CACHES['default']['BACKEND'])"
    )
    kept = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "REDIS_URL", "DATABASE_URL")}
    output = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**kept, "DJANGO_SETTINGS_MODULE": "linktrack.settings", **environment},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {"broker": output[0], "eager": output[1], "cache": output[2]}


@pytest.mark.parametrize(
    ("environment", "broker", "eager", "cache"),
    [
        (
            {"CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//", "REDIS_URL": "redis://127.0.0.1:6379/0"},
            "amqp://guest:guest@127.0.0.1:5672//",
            "False",
            "django.core.cache.backends.redis.RedisCache",
        ),
        (
            {"REDIS_URL": "redis://127.0.0.1:6379/0"},
            "redis://127.0.0.1:6379/0",
            "False",
            "django.core.cache.backends.redis.RedisCache",
        ),
        ({}, "memory://localhost/", "True", "django.core.cache.backends.locmem.LocMemCache"),
    ],
    ids=["rabbitmq-broker-redis-cache", "redis-for-both", "embedded"],
)
def test_the_broker_is_rabbitmq_when_given_else_redis_else_none(environment, broker, eager, cache):
    assert _settings_in(environment) == {"broker": broker, "eager": eager, "cache": cache}


def test_a_test_that_needs_rabbitmq_fails_without_it_when_services_are_required(monkeypatch):
    # given nothing listening where RabbitMQ should be, and CI's REQUIRE_SERVICES=1
    port = free_port()
    monkeypatch.setattr(workers, "RABBITMQ_ADDRESS", ("127.0.0.1", port))
    monkeypatch.setattr(services, "REQUIRE_SERVICES", True)

    # then a test asking for its virtual host fails, naming what is missing, rather than being skipped
    with (
        pytest.raises(pytest.fail.Exception, match=f"RabbitMQ at 127.0.0.1:{port} is required"),
        rabbitmq_virtual_host(),
    ):
        pass
