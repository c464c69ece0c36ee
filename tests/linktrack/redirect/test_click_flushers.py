"""Two click flushers at once on one stream, as two worker processes (separate `celery worker` commands) running
clicks_flush_task: they share the stream, and when one is killed (SIGKILL) mid-batch the other claims what it had
read. Every click is stored once and counted once."""

import os
import signal
import time
import uuid

import pytest
import redis
from django.db.models import Sum

from linktrack import tasks
from linktrack.celery import app as celery_app
from linktrack.models import Click, DailyClicks
from linktrack.redirect import click_flush, clicks
from linktrack.services import click_counters_verify
from tests.factories import CampaignFactory, make_messages
from tests.linktrack.helpers import CHROME_ANDROID, IPHONE, link_for

CLICKS = 12_000
QUEUE = "test-click-flushers"  # the test's own queue, whatever queue the flush is routed to in production


def _flushers_of(stream: redis.Redis, key: str, worker_pid: int) -> list[dict]:
    """The consumer group's flushers that run in the worker whose main process is `worker_pid` (its pool's
    processes share its process group)."""
    try:
        flushers = stream.xinfo_consumers(key, click_flush.GROUP)
    except redis.ResponseError:
        return []  # no flusher has run yet (no group)
    found = []
    for flusher in flushers:
        pid = int(flusher["name"].split(":")[1])
        try:
            if os.getpgid(pid) == worker_pid:
                found.append(flusher)
        except ProcessLookupError:
            continue
    return found


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_flush_one_stream_and_a_killed_ones_batch_is_claimed_and_stored_once(
    workers, redis_url, template, customers, settings
):
    # given 12,000 clicks waiting on a stream: recipients, visitors without one, and link previews
    campaign = CampaignFactory(template=template)
    link, messages = link_for(campaign), make_messages(campaign, customers)
    key = f"test:clicks:{uuid.uuid4().hex}"
    settings.CLICK_STREAM_URL, settings.CLICK_STREAM_KEY = redis_url, key
    stream = redis.Redis.from_url(redis_url, decode_responses=True)
    pipe, event_ids = stream.pipeline(transaction=False), []
    for n in range(CLICKS):
        agent = "WhatsApp/2.23.20.0 A" if n % 40 == 0 else (IPHONE if n % 3 else CHROME_ANDROID)
        message_id = 0 if n % 25 == 0 else messages[n % len(messages)].pk
        event = clicks.click_event(link.pk, message_id, domain=None, ip=f"203.0.113.{n % 50}", user_agent=agent,
                                   method="GET")  # fmt: skip
        pipe.xadd(key, event)
        event_ids.append(event["id"])
    events = dict(zip(pipe.execute(), event_ids, strict=True))  # stream entry id: the click's own id

    # when two worker processes flush it at once, 100 clicks a batch, and one is killed while it holds a batch
    workers.env.update(
        {"CLICK_STREAM_KEY": key, "CLICK_FLUSH_BATCH": "100", "CLICK_FLUSH_CLAIM_SECONDS": "3"}
    )  # fmt: skip
    first = workers.start("--concurrency=1", "--prefetch-multiplier=1", "-Q", QUEUE, "-n", "first@%h")
    second = workers.start("--concurrency=1", "--prefetch-multiplier=1", "-Q", QUEUE, "-n", "second@%h")
    deadline = time.monotonic() + 60
    while len(celery_app.control.ping(timeout=0.5)) < 2 and time.monotonic() < deadline:
        pass  # until both listen, so that neither takes every flush before the other has started
    for _ in range(4):  # a worker holds at most the flush it runs and one more
        tasks.clicks_flush_task.apply_async(queue=QUEUE)
    held, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        reading = _flushers_of(stream, key, first.pid)
        if reading and reading[0]["pending"] and _flushers_of(stream, key, second.pid):
            held = [entry["message_id"] for entry in stream.xpending_range(key, click_flush.GROUP, "-", "+", 1000,
                                                                           consumername=reading[0]["name"])]  # fmt: skip
            if held:
                break
        time.sleep(0.01)
    assert held, f"the two workers never flushed at the same time: {stream.xinfo_consumers(key, click_flush.GROUP)}"
    os.killpg(first.pid, signal.SIGKILL)

    # and the survivor keeps being asked to flush, as beat does
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if not stream.xlen(key) and not stream.xpending(key, click_flush.GROUP)["pending"]:
            break
        tasks.clicks_flush_task.apply_async(queue=QUEUE)
        time.sleep(1)

    # then the stream is empty, nothing is pending, and every click is stored once and counted once, the killed
    # flusher's batch included
    try:
        assert stream.xlen(key) == 0 and stream.xpending(key, click_flush.GROUP)["pending"] == 0
        assert Click.objects.count() == CLICKS
        assert Click.objects.values("event_id").distinct().count() == CLICKS
        assert Click.objects.filter(event_id__in=[events[entry_id] for entry_id in held]).count() == len(held)
        people = Click.objects.filter(is_bot=False).count()
        assert people == CLICKS - CLICKS // 40
        assert DailyClicks.objects.aggregate(total=Sum("total"))["total"] == people
        assert click_counters_verify() == []
    finally:
        stream.delete(key)
        with celery_app.connection_for_write() as connection:
            connection.default_channel.queue_purge(QUEUE)  # the flushes asked for after the stream was empty
