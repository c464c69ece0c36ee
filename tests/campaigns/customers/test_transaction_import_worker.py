"""A real Celery worker imports a transaction file; killed half-way, the import run again stores every transaction
once and leaves the sales counters as a count from scratch gives them."""

import io
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from campaigns.base.csv_imports import import_job_create, import_job_get, import_job_save
from campaigns.customers.attribution import campaign_sales_recount
from campaigns.customers.tasks import transactions_import_task
from campaigns.models import CampaignSales, Transaction
from linktrack.celery import app as celery_app
from tests.campaigns.customers.transactions_helpers import ist, reached
from tests.factories import CustomerFactory
from tests.services import missing
from tests.workers import ROOT

ROWS = 6000
FIRST = 1000  # purchases counted for campaign A, all stored before the worker is killed


def _start_worker(redis_url: str, folder) -> subprocess.Popen:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": redis_url,
        "IMPORT_FILES_DIR": str(folder),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "linktrack", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def worker_folder(postgres, redis_url, transactional_db, tmp_path, settings):
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        missing("a Redis cache (REDIS_URL)")
    settings.IMPORT_FILES_DIR = tmp_path
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    started: list[subprocess.Popen] = []
    yield tmp_path, started
    celery_app.conf.task_always_eager = True
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def _wait(job_id: str, until, worker: subprocess.Popen, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = import_job_get(job_id)
        if until(job):
            return job
        assert worker.poll() is None, "the worker process died"
        time.sleep(0.05)
    raise AssertionError(f"the import did not get there: {import_job_get(job_id)}")


def test_an_import_killed_half_way_and_run_again_stores_each_transaction_once(worker_folder, redis_url, org, template):
    folder, started = worker_folder
    # given customers C1-C10 who got campaign A and C11-C20 who got campaign B; the file's first 1,000 purchases are
    # by the first ten, the rest by the others
    customers = [CustomerFactory(org=org, external_id=f"C{n}") for n in range(1, 21)]
    first_campaign, _ = reached(template, customers[0], ist(2026, 11, 1, 10, 0), name="A")
    second_campaign, _ = reached(template, customers[10], ist(2026, 11, 1, 10, 0), name="B")
    for number, customer in enumerate(customers):
        if number not in (0, 10):
            (first_campaign if number < 10 else second_campaign).messages.create(
                customer=customer, channel="sms", recipient=customer.mobile, status="delivered",
                sent_at=ist(2026, 11, 1, 10, 0), finished_at=ist(2026, 11, 1, 10, 0),
            )  # fmt: skip
    lines = ["transaction_id,time,amount,external_id"] + [
        f"T{n},2026-11-0{2 + n % 5} 10:00,{n % 900 + 1}.50,C{(1 if n < FIRST else 11) + n % 10}" for n in range(ROWS)
    ]
    upload = io.BytesIO(("\n".join(lines) + "\n").encode())
    job_id = import_job_create(
        kind="transactions", org_id=org.pk, user_id=None, upload=upload, options={"batch_size": 200}
    )

    # when a worker imports it and is killed (SIGKILL) half-way
    first = _start_worker(redis_url, folder)
    started.append(first)
    transactions_import_task.delay(job_id)
    _wait(job_id, lambda job: job["report"]["processed"] > FIRST, first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=20)
    stored_before = Transaction.objects.count()
    assert 0 < stored_before < ROWS

    # and the import runs again on another worker (as the broker redelivers an unacknowledged task)
    job = import_job_get(job_id)
    job["status"] = "queued"
    import_job_save(job)
    second = _start_worker(redis_url, folder)
    started.append(second)
    transactions_import_task.delay(job_id)
    job = _wait(job_id, lambda job: job["status"] in ("done", "failed"), second)

    # then every transaction is stored once, and the counters are what a count from scratch gives
    assert job["status"] == "done", job
    assert Transaction.objects.count() == ROWS
    assert job["report"]["unchanged"] >= stored_before
    # (campaign A's purchases were all stored by the first worker, which was killed before counting them)
    counted = list(CampaignSales.objects.order_by("campaign_id").values_list("campaign_id", "other_purchases"))
    assert counted == [(first_campaign.pk, FIRST), (second_campaign.pk, ROWS - FIRST)]
    campaign_sales_recount([first_campaign.pk, second_campaign.pk])
    assert counted == list(CampaignSales.objects.order_by("campaign_id").values_list("campaign_id", "other_purchases"))
