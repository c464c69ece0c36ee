"""A real Celery worker imports an uploaded customer file; the web side reads progress from Redis."""

import io
import os
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.db import connection

from campaigns.base.csv_imports import import_job_create, import_job_get, import_job_path
from campaigns.customers.tasks import customers_import_task
from campaigns.models import Customer
from linktrack.celery import app as celery_app
from tests.services import missing
from tests.workers import ROOT


@pytest.fixture
def import_worker(postgres, redis_url, transactional_db, tmp_path, settings):
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        missing("a Redis cache (REDIS_URL)")
    settings.IMPORT_FILES_DIR = tmp_path
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": redis_url,
        "IMPORT_FILES_DIR": str(tmp_path),
    }
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "linktrack", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    celery_app.conf.task_always_eager = True
    process.terminate()
    output, _ = process.communicate(timeout=20)
    print(output)


def test_a_worker_imports_an_uploaded_file_and_reports_progress_through_redis(import_worker, org):
    # given an uploaded file of 3,000 customers, one row of which is bad
    lines = ["mobile,name,city"] + [f"9{n:09d},Customer {n},Pune" for n in range(1, 3001)]
    lines[1500] = "12345,Bad,Pune"
    upload = io.BytesIO(("\n".join(lines) + "\n").encode())
    job_id = import_job_create(
        kind="customers", org_id=org.pk, user_id=None, upload=upload, options={"batch_size": 500}
    )

    # when the import task is queued and a separate worker process runs it
    customers_import_task.delay(job_id)
    seen_running = False
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job = import_job_get(job_id)
        seen_running |= job["status"] == "running" and 0 < job["report"]["processed"] < 3000
        if job["status"] in ("done", "failed"):
            break
        assert import_worker.poll() is None, "the worker process died"
        time.sleep(0.05)

    # then the web side read the finished report from Redis, the customers are in PostgreSQL, the file is gone
    assert job["status"] == "done", job
    assert job["report"]["created"] == 2999 and job["report"]["error_count"] == 1
    assert job["report"]["errors"][0]["line"] == 1501
    assert Customer.objects.filter(org=org).count() == 2999
    assert not import_job_path(job_id).exists()
    assert cache.get(f"import-job:{job_id}")["status"] == "done"
    # and while it ran, partial progress was readable from another process
    assert seen_running
