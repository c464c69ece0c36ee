"""Two worker processes (two `celery worker` commands) prepare and send one campaign side by side: its batches are
tasks of their own that either worker takes, and each message is still made, handed over and charged once."""

import time

from django.db.models import Count, Sum

from campaigns.lifecycle import services
from campaigns.models import Campaign, Customer, Org
from delivery.models import GatewayExchange, Message
from linktrack.celery import app
from tests.factories import LINK_SLOTS, make_customers


def test_two_workers_share_the_preparation_of_one_campaign(workers, template, manager):
    # given 400 customers (batches of 20), two of them sharing a number, and two worker processes
    org = template.org
    credits = Org.objects.get(pk=org.pk).credits
    make_customers(org, 400)
    first = Customer.objects.filter(org=org).order_by("pk").first()
    Customer.objects.create(org=org, name="Same number", mobile="0" + first.mobile.removeprefix("+91"))
    running = [
        workers.start("--pool=solo", "--prefetch-multiplier=1", f"--hostname=worker{n}@%h", "--without-gossip")
        for n in (1, 2)
    ]
    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=0.5)) < 2:
        assert time.monotonic() < deadline, "the workers did not start"
    campaign = services.campaign_create(org=org, user=manager, name="Shared", template=template, slot_values=LINK_SLOTS)

    # when it is launched
    services.campaign_launch(campaign=campaign, user=manager)
    messages = Message.objects.filter(campaign=campaign)
    deadline = time.monotonic() + 120
    while messages.exclude(gateway_message_id="").count() < 400 or messages.filter(status="queued").exists():
        assert all(worker.poll() is None for worker in running), "a worker process died"
        assert time.monotonic() < deadline, f"{messages.exclude(gateway_message_id='').count()} of 400 handed over"
        time.sleep(0.25)

    # then both workers prepared some of its batches
    totals = {name: stats.get("total", {}) for name, stats in (app.control.inspect(timeout=5).stats() or {}).items()}
    prepared = {
        name: total.get("campaigns.sending.tasks.campaign_dispatch_batch_task", 0) for name, total in totals.items()
    }
    assert len(prepared) == 2 and all(prepared.values()), prepared
    assert sum(prepared.values()) == 20
    # and every customer but the second with the same number got one message, handed over once, charged once
    assert messages.count() == 400
    assert not messages.filter(customer__name="Same number").exists()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
    submits = GatewayExchange.objects.filter(message__campaign=campaign, operation="submit")
    assert submits.count() == 400
    assert not submits.values("message_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    charged = Campaign.objects.get(pk=campaign.pk).credits_charged
    assert charged == messages.aggregate(total=Sum("segments"))["total"] == credits - Org.objects.get(pk=org.pk).credits
