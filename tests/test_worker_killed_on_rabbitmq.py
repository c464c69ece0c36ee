"""A worker killed with SIGKILL on RabbitMQ: the tasks it held (acknowledged only once done) go back to the queue at
once and another worker runs them; no supervisor and no visibility timeout (an hour on Redis) is waited for.
Real processes: two Celery workers, RabbitMQ, PostgreSQL, the simulated gateway."""

import os
import signal
import time

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from campaigns.lifecycle import services
from campaigns.models import Campaign, Org
from campaigns.sending.holds import campaign_settle_credits
from delivery.models import Message
from tests.factories import LINK_SLOTS, make_customers
from tests.workers import WORKER_APPLICATION_NAME, status_changes, status_changes_by_worker

pytestmark = pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)


def _wait_for(condition, *, seconds: float, alive=(), what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        for worker in alive:
            assert worker.poll() is None, "a worker process died by itself"
        time.sleep(0.05)


def _sessions_waiting_for_a_lock(worker: str) -> int:
    """How many of a worker's database sessions wait for a lock now (a fresh look, also inside a transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
            [f"{WORKER_APPLICATION_NAME}-{worker}"],
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_dispatch_leaves_its_task_to_the_other_worker_at_once(
    workers, handover_log, template, manager
):
    # given a campaign of 600 and a worker preparing it in batches of 20
    total = 600
    org = template.org
    make_customers(org, total)
    credits_before = Org.objects.get(pk=org.pk).credits
    campaign = services.campaign_create(
        org=org, user=manager, name="Killed mid-dispatch", template=template, slot_values=LINK_SLOTS
    )
    messages = Message.objects.filter(campaign=campaign)
    first = workers.start("--pool=solo", name="first")
    services.campaign_launch(campaign=campaign, user=manager)
    _wait_for(lambda: messages.count() >= 40, seconds=60, alive=[first], what="the first batches prepared")

    # and held mid-task: the batch in its hands waits for the org's row, which the test locks (credits are taken
    # under it)
    with transaction.atomic():
        Org.objects.select_for_update().get(pk=org.pk)
        _wait_for(
            lambda: _sessions_waiting_for_a_lock("first"), seconds=60, alive=[first], what="the first worker held"
        )
        prepared_at_kill = messages.count()
        assert prepared_at_kill < total, "the dispatch finished before it was held; the test proves nothing"

        # when the first worker is killed (SIGKILL, its whole process group) holding that batch task
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    # and a second worker is started, reading the same queues
    second = workers.start("--pool=solo", name="second")

    # then the batch the first worker held comes back from the broker at once and the second worker finishes the
    # campaign (it is prepared only when every batch is done); nobody runs the supervisor, which would restart a
    # stalled dispatch only after DISPATCH_STALE_SECONDS (120)
    _wait_for(
        lambda: (
            Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DISPATCHED).exists()
            and messages.count() == total
            and not messages.filter(gateway_message_id="").exists()
        ),
        seconds=90,
        alive=[second],
        what="the campaign finished by the second worker",
    )
    print(f"prepared when the first worker was killed: {prepared_at_kill} of {total}")

    # and every customer has one message, handed over once, with one gateway id each
    assert messages.values("customer").distinct().count() == total
    assert len(set(messages.values_list("gateway_message_id", flat=True))) == total
    assert set(status_changes("submitting").values()) == {1} and len(status_changes("submitting")) == total
    assert set(status_changes("sent").values()) == {1} and len(status_changes("sent")) == total
    # between the two workers, the second finishing what the first left
    sent_by = status_changes_by_worker("sent")
    assert sum(sent_by.values()) == total and sent_by.get(f"{WORKER_APPLICATION_NAME}-second", 0) > 0

    # and the credits are exact: every message charged once, nothing to give back
    spent = messages.aggregate(n=Sum("segments"))["n"]
    assert Campaign.objects.get(pk=campaign.pk).credits_charged == spent
    assert campaign_settle_credits(campaign_id=campaign.pk) == 0
    assert Org.objects.get(pk=org.pk).credits == credits_before - spent


def test_receipts_held_by_a_killed_worker_are_applied_by_the_other_at_once(workers, handover_log, template, manager):
    # given a worker that has handed over a campaign of 60 and holds its receipts (due 5 s after the hand-over)
    total = 60
    workers.env["SIMULATED_RECEIPT_DELAY_SECONDS"] = "5"
    make_customers(template.org, total)
    campaign = services.campaign_create(
        org=template.org, user=manager, name="Receipts held", template=template, slot_values=LINK_SLOTS
    )
    messages = Message.objects.filter(campaign=campaign)
    first = workers.start("--pool=solo", name="first")
    services.campaign_launch(campaign=campaign, user=manager)
    _wait_for(
        lambda: messages.count() == total and not messages.filter(gateway_message_id="").exists(),
        seconds=60,
        alive=[first],
        what="every message handed over",
    )

    # when it is killed (SIGKILL) before it applies them, and another worker is started
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    waiting_at_kill = messages.filter(status=Message.Status.SENT).count()
    assert waiting_at_kill > 0, "every receipt was applied before the kill; the test proves nothing"
    second = workers.start("--pool=solo", name="second")

    # then the receipts come back from the broker to the second worker, which applies each once: no message stays
    # "sent" for the hour a Redis broker would keep them
    _wait_for(
        lambda: messages.filter(status__in=Message.FINAL_STATUSES).count() == total,
        seconds=60,
        alive=[second],
        what="every receipt applied",
    )
    print(f"waiting for their receipt when the first worker was killed: {waiting_at_kill} of {total}")
    final_changes = [status_changes(status) for status in Message.FINAL_STATUSES]
    assert sum(len(changes) for changes in final_changes) == total
    assert {count for changes in final_changes for count in changes.values()} == {1}
