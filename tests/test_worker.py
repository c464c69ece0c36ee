"""Real Celery worker processes, against PostgreSQL, on each broker (Redis, RabbitMQ): a whole campaign, a test from
the preview, and a worker killed mid-campaign."""

import os
import signal
import time

import pytest
from django.urls import reverse

from campaigns.lifecycle import services
from campaigns.models import Campaign
from campaigns.sending.supervisor import campaigns_supervise
from delivery.models import GatewayExchange, Message
from tests.factories import LINK_SLOTS, make_customers
from tests.workers import status_changes

pytestmark = pytest.mark.parametrize("broker", ["redis", "rabbitmq"], indirect=True)


def test_worker_sends_every_message_to_a_final_state(workers, template, manager):
    # given 50 customers and a campaign with a tracked link
    worker = workers.start("--pool=solo")
    make_customers(template.org, 50)
    campaign = services.campaign_create(
        org=template.org, user=manager, name="Worker run", template=template, slot_values=LINK_SLOTS
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


def test_a_worker_hands_over_a_test_sent_from_the_preview(workers, client, template, manager):
    # given a draft and a worker process
    worker = workers.start("--pool=solo")
    campaign = services.campaign_create(
        org=template.org, user=manager, name="Test run", template=template, slot_values=LINK_SLOTS
    )
    client.force_login(manager)

    # when the manager sends a test from the preview
    response = client.post(reverse("campaigns:proof-send", args=[campaign.pk]), {"recipients": "9810000001"})
    assert response.status_code == 302

    # then the worker hands it to the gateway and its receipt comes back
    message = Message.with_proofs.get(campaign=campaign)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not message.is_final:
        assert worker.poll() is None, "the worker process died"
        time.sleep(0.25)
        message.refresh_from_db()
    assert message.is_final and message.gateway_message_id and message.sent_at
    assert GatewayExchange.objects.filter(message=message, operation="submit").exists()


def test_worker_killed_mid_campaign_then_every_message_is_sent_exactly_once(
    workers, handover_log, template, manager, settings
):
    # given a campaign of 600 and a worker (two pool processes: one dispatching while the other sends)
    settings.DISPATCH_STALE_SECONDS = 2
    settings.QUEUED_STALE_SECONDS = 3
    settings.SUBMITTING_STALE_SECONDS = 2
    settings.DISPATCH_BATCH_SIZE = 20
    total = 600
    make_customers(template.org, total)
    campaign = services.campaign_create(
        org=template.org, user=manager, name="Killed", template=template, slot_values=LINK_SLOTS
    )
    first = workers.start("--concurrency=2")
    services.campaign_launch(campaign=campaign, user=manager)

    # when the worker is killed (SIGKILL, the whole process group) once it has handed some messages over
    deadline = time.monotonic() + 60
    messages = Message.objects.filter(campaign=campaign)
    while messages.exclude(gateway_message_id="").count() < 20 and time.monotonic() < deadline:
        assert first.poll() is None, "the worker process died by itself"
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    handed_over_at_kill = messages.exclude(gateway_message_id="").count()
    prepared_at_kill = messages.count()
    stuck_at_kill = set(messages.filter(status=Message.Status.SUBMITTING).values_list("pk", flat=True))
    print(f"at kill: prepared {prepared_at_kill}, handed over {handed_over_at_kill}, submitting {len(stuck_at_kill)}")
    assert handed_over_at_kill < total, "the campaign finished before the kill; the test proves nothing"

    # and a new worker starts while the supervisor (beat's periodic task) passes every half second
    second = workers.start("--concurrency=2")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        campaigns_supervise()
        if messages.count() == total and messages.exclude(gateway_message_id="").count() == total:
            break
        assert second.poll() is None, "the new worker died"
        time.sleep(0.5)

    # then every customer has one message, every message was handed over, and recorded as sent, exactly once
    assert messages.count() == total
    assert messages.values("customer").distinct().count() == total
    gateway_ids = list(messages.values_list("gateway_message_id", flat=True))
    assert "" not in gateway_ids and len(set(gateway_ids)) == total
    sent = status_changes("sent")
    assert len(sent) == total and set(sent.values()) == {1}
    # A message is claimed for the gateway once; twice only if the kill caught it mid hand-over (then the
    # simulated gateway, which de-duplicates by message id, got it again and gave the same id back).
    claimed_twice = {pk for pk, n in status_changes("submitting").items() if n > 1}
    assert claimed_twice <= stuck_at_kill
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
