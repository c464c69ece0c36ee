#!/usr/bin/env python
"""Benchmark dispatch: one campaign with two tracked links to N customers (default 100,000).

Migrates the PostgreSQL database named by DATABASE_URL, creates a bench org with N customers, starts one or two
real Celery workers (separate `celery worker` processes, prefork; the pool processes split the cores between them)
against the broker with the simulated gateway, launches the campaign and follows it until every message has been
handed to the gateway. Prints messages/s for preparation (audience expanded, checked, rendered with short links,
inserted) and for sending (handed to the gateway), the SQL queries the workers ran, and the peak memory of each pool
process; then checks that every customer got one message, each handed over once, and that the credits taken are
exactly the segments sent. Run by hand, not in the tests:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linktrack_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/dispatch.py [--customers 100000] [--workers 2] [--batch-size 1000] [--receipt-delay 600]

The worker runs with DEBUG off, as in production. It counts its queries with a database execute wrapper installed
by this script, plus the COPY statements, which do not pass through execute wrappers (no project code changes);
counts and peak memory go to Redis keys under bench:dispatch:.
"""

import argparse
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import create_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linktrack.settings")
from linktrack.queues import QUEUES  # noqa: E402

KEY = "bench:dispatch:"
TARGET_SECONDS = 20
TARGET_SECONDS_1M = 120
# The queues the bench's workers consume: all five (linktrack/queues.py), as `make worker` does.
WORKER_QUEUES = list(QUEUES)


def run_worker() -> None:
    """The worker process: a plain Celery worker, plus query and memory counters for this benchmark."""
    import django

    django.setup()
    import redis
    from celery.signals import task_postrun, worker_process_init
    from django.conf import settings
    from django.db import connection
    from django.db.backends.utils import CursorWrapper

    from linktrack.celery import app

    store = redis.Redis.from_url(settings.REDIS_URL)
    counted = {"queries": 0}

    def count(execute, sql, params, many, context):
        counted["queries"] += 1
        return execute(sql, params, many, context)

    def copy_expert(self, sql, file, *args):
        counted["queries"] += 1
        return self.cursor.copy_expert(sql, file, *args)

    CursorWrapper.copy_expert = copy_expert

    @worker_process_init.connect
    def install(**_):
        connection.execute_wrappers.append(count)

    @task_postrun.connect
    def report(**_):
        store.incrby(KEY + "queries", counted["queries"])
        counted["queries"] = 0
        store.hset(KEY + "peak_kib", str(os.getpid()), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    concurrency = os.environ["BENCH_WORKER_CONCURRENCY"]
    name = os.environ["BENCH_WORKER_NAME"]
    app.worker_main(
        [
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={concurrency}",
            f"--hostname={name}@%h",
            f"--queues={','.join(WORKER_QUEUES)}",
        ]
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000, help="DISPATCH_BATCH_SIZE for the worker")
    parser.add_argument(
        "--workers", type=int, default=1, choices=(1, 2), help="separate worker processes (celery worker commands)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="pool processes per worker (default: the cores shared between the workers, at least 1)",
    )
    parser.add_argument(
        "--receipt-delay",
        type=float,
        default=None,
        help="SIMULATED_RECEIPT_DELAY_SECONDS for the worker (default: the setting, 2 s); a long delay keeps "
        "receipt processing out of the hand-over measurement",
    )
    parser.add_argument(
        "--no-analyze", action="store_true", help="do not ANALYZE the database before launching (see the README)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def _bench_campaign(args: argparse.Namespace):
    """A fresh org with link tracking on, N customers and a draft campaign to all of them."""
    from django.db import connection
    from django.utils import timezone

    from campaigns.lifecycle import services
    from campaigns.models import Customer, Org, SenderId, Template, User
    from delivery.bulk import copy_rows

    stamp = time.strftime("%Y%m%d-%H%M%S")
    org = Org.objects.create(name=f"Bench dispatch {stamp}", sms_link_tracking=True, credits=10**9)
    user, _ = User.objects.get_or_create(email="bench@linktrack.test")
    sender = SenderId.objects.create(
        org=org, header="BENCHS", category=SenderId.Category.SERVICE_IMPLICIT, dlt_entity_id="1701160000000000009"
    )
    template = Template.objects.create(
        org=org,
        name="Bench",
        sender=sender,
        dlt_template_id="1707160000000000009",
        body="Hi {#var#}, your order is on its way: {#var#} Offers for you: {#var#} - Acme",
    )
    started = time.perf_counter()
    for start in range(0, args.customers, 50_000):
        # COPY rather than bulk_create: a million customers in seconds rather than minutes.
        copy_rows(
            Customer,
            ("name", "mobile", "external_id"),
            ((f"Cust {n}", f"+9190{n:08d}", f"B{n}") for n in range(start, min(start + 50_000, args.customers))),
            shared={"org_id": org.pk, "created_at": timezone.now(), "updated_at": timezone.now()},
        )
    print(f"{args.customers} customers created in {time.perf_counter() - started:.1f} s")
    if not args.no_analyze:
        # Planner statistics, as autovacuum keeps them on a normal server (a server with autovacuum off has
        # none, and PostgreSQL then plans lookups of 1,000 ids as scans of the whole table).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    campaign = services.campaign_create(
        org=org,
        user=user,
        name=f"Bench {stamp}",
        template=template,
        slot_values=[
            {"source": "field", "value": "name"},
            {"source": "url", "value": "https://shop.acme.test/track"},
            {"source": "url", "value": "https://shop.acme.test/offers"},
        ],
    )
    return campaign, user


def _start_workers(app, count: int, concurrency: int) -> list[subprocess.Popen]:
    """The workers as in production: DEBUG off (no per-statement recording), so real secrets are required (the
    same for all of them, as for the workers of one deployment)."""
    worker_env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "HASHIDS_SALT": secrets.token_urlsafe(24),
        "BENCH_WORKER_CONCURRENCY": str(concurrency),
    }
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            cwd=ROOT,
            env={**worker_env, "BENCH_WORKER_NAME": f"bench{number}"},
            start_new_session=True,
        )
        for number in range(1, count + 1)
    ]
    deadline = time.monotonic() + 90
    while len(app.control.ping(timeout=0.5)) < count:
        if time.monotonic() > deadline or any(worker.poll() is not None for worker in workers):
            _stop_workers(workers)
            sys.exit("the workers did not start")
    return workers


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def _launch_and_wait(campaign, user, workers, store) -> tuple[float, float, int]:
    """Launch, then wait until every message is prepared, then handed over: (seconds to prepared, seconds to handed
    over, the worker's queries until prepared)."""
    from campaigns.lifecycle import services
    from campaigns.models import Campaign
    from delivery.models import Message

    launched = time.perf_counter()
    services.campaign_launch(campaign=campaign, user=user)
    prepared_at = sent_at = None
    queries_prepared = 0
    messages = Message.objects.filter(campaign=campaign)
    while sent_at is None:
        time.sleep(0.2)
        if any(worker.poll() is not None for worker in workers):
            sys.exit("a worker died")
        now = time.perf_counter()
        if prepared_at is None:
            if Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DISPATCHED).exists():
                prepared_at = now
                queries_prepared = int(store.get(KEY + "queries") or 0)
            continue
        # A cheap question (one probe of the campaign-status index), asked every 0.2 s while the worker runs.
        if not messages.filter(status__in=("queued", "submitting")).exists():
            sent_at = now
        if now - launched > 3600:
            sys.exit("gave up after an hour")
    return prepared_at - launched, sent_at - launched, queries_prepared


def main() -> None:
    args = _arguments()
    if args.worker:
        run_worker()
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL) and REDIS_URL: the benchmark runs against the real services.")
    create_database(os.environ["DATABASE_URL"])
    os.environ["DISPATCH_BATCH_SIZE"] = str(args.batch_size)
    if args.receipt_delay is not None:
        os.environ["SIMULATED_RECEIPT_DELAY_SECONDS"] = str(args.receipt_delay)

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command

    from delivery.models import Message
    from linktrack.celery import app

    call_command("migrate", verbosity=0)
    store = redis.Redis.from_url(settings.REDIS_URL)
    store.delete(KEY + "queries", KEY + "peak_kib")
    app.control.purge()
    campaign, user = _bench_campaign(args)
    concurrency = args.concurrency or max((os.cpu_count() or 2) // args.workers, 1)
    workers = _start_workers(app, args.workers, concurrency)
    try:
        store.delete(KEY + "queries", KEY + "peak_kib")
        prepare_seconds, whole_seconds, queries_prepared = _launch_and_wait(campaign, user, workers, store)
        queries_total = int(store.get(KEY + "queries") or 0)
        peaks = {pid: int(kib) for pid, kib in store.hgetall(KEY + "peak_kib").items()}
    finally:
        _stop_workers(workers)

    messages = Message.objects.filter(campaign=campaign)
    total = messages.count()
    handed_over = messages.exclude(gateway_message_id="").count()
    print(
        f"{args.workers} worker process(es), {concurrency} pool process(es) each, queues {','.join(WORKER_QUEUES)}; "
        f"messages: {total} prepared, {handed_over} handed to the gateway (batch size {args.batch_size})"
    )
    print(f"preparation: {prepare_seconds:.1f} s, {total / prepare_seconds:,.0f} messages/s")
    print(
        f"sending: all handed over {whole_seconds:.1f} s after launch, "
        f"{handed_over / whole_seconds:,.0f} messages/s over the whole campaign"
    )
    print(
        f"SQL queries by the worker: {queries_prepared} until prepared, {queries_total} in all "
        f"(including sending and simulated receipts), {queries_total / max(total, 1):.3f} per message"
    )
    print(f"peak memory per worker process: {', '.join(f'{kib / 1024:.0f} MiB' for kib in peaks.values())}")
    target = TARGET_SECONDS_1M if args.customers >= 1_000_000 else TARGET_SECONDS * args.customers / 100_000
    verdict = "met" if whole_seconds <= target else "MISSED"
    print(f"target: handed to the gateway in {target:.0f} s or less: {verdict} ({whole_seconds:.1f} s)")
    problems = _check_exactly_once(campaign, args.customers)
    print(problems or "checked: one message per customer, each handed over once, credits exact")
    if problems:
        sys.exit(1)


def _check_exactly_once(campaign, customers: int) -> str:
    """What went wrong, or "": a message for every customer, one submit in the gateway log per message handed
    over, and the credits the org lost equal to the campaign's charge and to the segments of what was sent."""
    from django.db.models import Count, Sum

    from campaigns.models import Campaign, Org
    from delivery.models import GatewayExchange, Message

    messages = Message.objects.filter(campaign=campaign)
    problems = []
    if messages.count() != customers or messages.values("customer_id").distinct().count() != customers:
        problems.append(f"{messages.count()} messages for {customers} customers")
    not_handed = messages.filter(gateway_message_id="").count()
    if not_handed:
        problems.append(f"{not_handed} messages not handed over")
    submits = GatewayExchange.objects.filter(message__campaign=campaign, operation="submit")
    twice = submits.values("message_id").annotate(n=Count("id")).filter(n__gt=1).count()
    if twice or submits.count() != customers:
        problems.append(f"{submits.count()} submits for {customers} messages, {twice} messages submitted twice")
    segments = messages.exclude(status="not_sent").aggregate(total=Sum("segments"))["total"] or 0
    charged = Campaign.objects.get(pk=campaign.pk).credits_charged
    spent = 10**9 - Org.objects.get(pk=campaign.org_id).credits
    if not segments == charged == spent:
        problems.append(f"credits: {spent} taken from the org, {charged} charged, {segments} segments sent")
    return "; ".join(problems)


if __name__ == "__main__":
    main()
