#!/usr/bin/env python
"""Benchmark the click flush: clicks stored per second with their counters, by one flusher and by two at once.

Seeds (once) an org with a campaign, one tracked link and 5,000 delivered messages in the PostgreSQL database named
by DATABASE_URL. Then, for each number of flushers asked for: appends N click events to a Redis stream of its own
(as the redirect does: recipients on three kinds of phone, 3% without a recipient, 5% link previews), starts that
many flusher processes (each a separate Python process running linktrack's clicks_flush in a loop, as a Celery
worker's clicks_flush_task does), lets them go at once, and times them from the start until the stream is empty and
nothing is pending. Checks that every click was stored once and counted once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linktrack_bench_flush REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/flush.py --clicks 100000 --flushers 1 2
"""

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import create_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linktrack.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-flush-" + "x" * 50)

MESSAGES = 5_000
AGENTS = [
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
]
BOT = "WhatsApp/2.23.20.0 A"


def seeded():
    """The bench campaign's link and its messages' ids (made on the first run)."""
    from campaigns.models import Campaign, Customer, Org, SenderId, Template
    from delivery.models import Message
    from linktrack.models import ShortLink

    org = Org.objects.filter(name="Bench flush").first()
    if org is None:
        org = Org.objects.create(name="Bench flush", sms_link_tracking=True, timezone="Asia/Kolkata")
        sender = SenderId.objects.create(
            org=org, header="BENCHF", category=SenderId.Category.SERVICE_IMPLICIT, dlt_entity_id="1701160000000000010"
        )
        template = Template.objects.create(org=org, name="Bench", channel="sms", sender=sender, body="Sale: {#var#}")
        campaign = Campaign.objects.create(org=org, name="Bench flush", template=template, status="dispatched")
        ShortLink.objects.create(campaign=campaign, destination="https://shop.acme.test/sale")
        customers = Customer.objects.bulk_create(
            [Customer(org=org, name=f"Bench {n}", mobile=f"+91990{n:07d}") for n in range(MESSAGES)]
        )
        Message.objects.bulk_create(
            [
                Message(
                    campaign=campaign, customer=customer, channel="sms", recipient=customer.mobile, status="delivered"
                )
                for customer in customers
            ]
        )
    link = ShortLink.objects.get(campaign__org=org)
    return link, list(Message.objects.filter(campaign=link.campaign).values_list("pk", flat=True))


def append(stream, key: str, link, messages: list[int], count: int) -> None:
    from linktrack.redirect.clicks import click_event

    pipe = stream.pipeline(transaction=False)
    for n in range(count):
        agent = BOT if n % 20 == 0 else AGENTS[n % len(AGENTS)]
        message = 0 if n % 33 == 0 else messages[(n * 7919) % len(messages)]
        pipe.xadd(
            key, click_event(link.pk, message, domain=None, ip=f"10.1.{n % 250}.9", user_agent=agent, method="GET")
        )
        if n % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def run(flushers: int, count: int, link, messages: list[int]) -> None:
    import redis
    from django.conf import settings
    from django.db.models import Sum

    from linktrack.models import Click, DailyClicks
    from linktrack.redirect.click_flush import GROUP

    stream = redis.Redis.from_url(settings.CLICK_STREAM_URL, decode_responses=True)
    key, go = f"bench:flush:{uuid.uuid4().hex}", f"bench:flush-go:{uuid.uuid4().hex}"
    append(stream, key, link, messages, count)
    # What clicks waiting to be flushed cost Redis: the stream's memory per click (MEMORY USAGE samples every node).
    waiting = stream.memory_usage(key, samples=0) / count
    clicks_before, counted_before = Click.objects.count(), DailyClicks.objects.aggregate(n=Sum("total"))["n"] or 0
    env = {**os.environ, "CLICK_STREAM_KEY": key}
    processes = [
        subprocess.Popen([sys.executable, __file__, "--flusher", go], env=env, cwd=ROOT) for _ in range(flushers)
    ]
    while stream.llen(go + ":ready") < flushers:
        time.sleep(0.05)
    started = time.perf_counter()
    stream.rpush(go, *["go"] * flushers)
    while stream.xlen(key) or _pending(stream, key, GROUP):
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    for process in processes:
        process.wait(timeout=60)
    stored = Click.objects.count() - clicks_before
    counted = (DailyClicks.objects.aggregate(n=Sum("total"))["n"] or 0) - counted_before
    people = count - len(range(0, count, 20))
    check = "ok" if stored == count and counted == people else f"WRONG: {stored} stored, {counted} counted"
    print(
        f"{flushers} flusher(s): {count:,} clicks in {seconds:.1f} s = {count / seconds:,.0f} clicks/s "
        f"(batches of {settings.CLICK_FLUSH_BATCH}; {Click.objects.count():,} clicks in the table; waiting in Redis "
        f"{waiting:.0f} bytes a click, {waiting * 1e6 / 2**20:,.0f} MiB a million) {check}"
    )
    stream.delete(key, go, go + ":ready")


def _pending(stream, key: str, group: str) -> int:
    import redis

    try:
        return stream.xpending(key, group)["pending"]
    except redis.ResponseError:
        return 1  # no flusher has made the group yet


def flusher(go: str) -> None:
    """One flusher process: waits for the go, then flushes until the stream is empty and nothing is pending."""
    import django

    django.setup()
    import redis
    from django.conf import settings

    from linktrack.redirect.click_flush import GROUP, clicks_flush

    stream = redis.Redis.from_url(settings.CLICK_STREAM_URL)
    stream.rpush(go + ":ready", "1")
    stream.blpop([go], timeout=120)
    while (
        clicks_flush() or stream.xlen(settings.CLICK_STREAM_KEY) or _pending(stream, settings.CLICK_STREAM_KEY, GROUP)
    ):
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=100_000)
    parser.add_argument("--flushers", type=int, nargs="+", default=[1, 2], help="flusher processes, one run each")
    parser.add_argument("--flusher", metavar="GO", help=argparse.SUPPRESS)  # a flusher process of a run
    args = parser.parse_args()
    if args.flusher:
        flusher(args.flusher)
        return
    create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    link, messages = seeded()
    for flushers in args.flushers:
        run(flushers, args.clicks, link, messages)


if __name__ == "__main__":
    main()
