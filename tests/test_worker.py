"""A real Celery worker process, against Redis and PostgreSQL, sends a whole campaign."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from campaigns import services
from campaigns.models import Campaign
from delivery.models import Message
from linktrack.celery import app as celery_app
from tests.conftest import make_customers

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker(postgres, redis_url, transactional_db):
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": redis_url,
        "SIMULATED_RECEIPT_DELAY_SECONDS": "0.5",
        "SIMULATED_GATEWAY_MIX": "delivered:80,undeliverable:10,expired:10",
        "DISPATCH_BATCH_SIZE": "20",
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


def test_worker_sends_every_message_to_a_final_state(worker, template, manager):
    # given 50 customers and a campaign with a tracked link
    make_customers(template.org, 50)
    campaign = services.campaign_create(
        org=template.org,
        user=manager,
        name="Worker run",
        template=template,
        slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/t"}],
    )

    # when it is launched and the worker process does the dispatch, sending and receipts
    services.campaign_launch(campaign=campaign, user=manager)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = Message.objects.filter(campaign=campaign, status__in=Message.FINAL_STATUSES).count()
        if done == 50:
            break
        assert worker.poll() is None, "the worker process died"
        time.sleep(0.25)

    # then every message reached a final state through the worker
    assert Message.objects.filter(campaign=campaign, status__in=Message.FINAL_STATUSES).count() == 50
    assert Message.objects.filter(campaign=campaign, status=Message.Status.DELIVERED).count() > 0
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
