"""Several workers at once: two separate `celery worker` processes on RabbitMQ send one campaign between them.
Real processes: two Celery workers, RabbitMQ, PostgreSQL, Redis, the simulated gateway."""

import time

import pytest
from django.db.models import Sum

from campaigns.lifecycle import services
from campaigns.models import Campaign, Org
from campaigns.sending.holds import campaign_settle_credits
from delivery.models import Message
from tests.factories import LINK_SLOTS, make_customers
from tests.workers import WORKER_APPLICATION_NAME, status_changes, status_changes_by_worker

pytestmark = pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)

RECIPIENTS = 2_000


def test_two_worker_processes_send_one_campaign_each_message_once_and_the_credits_exact(
    workers, handover_log, template, manager
):
    """2,000 recipients in send tasks of 100: twenty tasks the two workers take from one queue, enough for both to
    hand over a share, in well under a minute on a busy two-core machine (the dispatch of 100,000 between two
    workers, with the same checks, is bench/two_workers.py)."""
    # given a campaign of 2,000 and two worker processes, each started on its own (not one with two pool processes)
    workers.env["DISPATCH_BATCH_SIZE"] = "100"
    org = template.org
    Org.objects.filter(pk=org.pk).update(credits=100_000)
    make_customers(org, RECIPIENTS)
    campaign = services.campaign_create(
        org=org, user=manager, name="Two workers", template=template, slot_values=LINK_SLOTS
    )
    messages = Message.objects.filter(campaign=campaign)
    first = workers.start("--pool=solo", name="first")
    second = workers.start("--pool=solo", name="second")

    # when it is launched
    services.campaign_launch(campaign=campaign, user=manager)
    deadline = time.monotonic() + 120
    while not (
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DISPATCHED).exists()
        and messages.count() == RECIPIENTS
        and not messages.filter(gateway_message_id="").exists()
    ):
        assert time.monotonic() < deadline, "the campaign was not handed over in time"
        assert first.poll() is None and second.poll() is None, "a worker process died"
        time.sleep(0.25)

    # then each customer has one message, handed to the gateway once, with a gateway id of its own
    assert messages.values("customer").distinct().count() == RECIPIENTS
    assert len(set(messages.values_list("gateway_message_id", flat=True))) == RECIPIENTS
    claimed, sent = status_changes("submitting"), status_changes("sent")
    assert len(claimed) == len(sent) == RECIPIENTS and set(claimed.values()) == set(sent.values()) == {1}

    # and both workers handed messages over, between them every one
    by_worker = status_changes_by_worker("sent")
    print(f"handed over by each worker: {by_worker}")
    assert set(by_worker) == {f"{WORKER_APPLICATION_NAME}-first", f"{WORKER_APPLICATION_NAME}-second"}
    assert sum(by_worker.values()) == RECIPIENTS

    # and the credits are exact: each message's segments taken once, nothing left to give back
    spent = messages.aggregate(n=Sum("segments"))["n"]
    assert spent >= RECIPIENTS
    assert Campaign.objects.get(pk=campaign.pk).credits_charged == spent
    assert campaign_settle_credits(campaign_id=campaign.pk) == 0
    assert Org.objects.get(pk=org.pk).credits == 100_000 - spent
