#!/usr/bin/env python
"""Benchmark dispatch: one campaign with two tracked links to N customers (default 100,000).

Migrates the PostgreSQL database named by DATABASE_URL, creates a bench org with N customers, starts ONE real
Celery worker (prefork, one pool process per core) against REDIS_URL with the simulated gateway, launches the
campaign and follows it until every message has been handed to the gateway. Prints messages/s for preparation
(audience expanded, checked, rendered with short links, inserted) and for sending (handed to the gateway),
the SQL queries the worker ran, and the peak memory of the worker's processes. Run by hand, not in the tests:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linktrack_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/dispatch.py [--customers 100000] [--batch-size 1000] [--receipt-delay 120]

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
KEY = "bench:dispatch:"
TARGET_SECONDS = 20


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

    app.worker_main(["worker", "--loglevel=WARNING", f"--concurrency={os.cpu_count() or 2}"])


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000, help="DISPATCH_BATCH_SIZE for the worker")
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

    from campaigns.lifecycle import services
    from campaigns.models import Customer, Org, SenderId, Template, User

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
    for start in range(0, args.customers, 10_000):
        Customer.objects.bulk_create(
            Customer(org=org, name=f"Cust {n}", mobile=f"+9190{n:08d}", external_id=f"B{n}")
            for n in range(start, min(start + 10_000, args.customers))
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


def _start_worker(app) -> subprocess.Popen:
    """The worker as in production: DEBUG off (no per-statement recording), so real secrets are required."""
    worker_env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "HASHIDS_SALT": secrets.token_urlsafe(24),
    }
    worker = subprocess.Popen([sys.executable, __file__, "--worker"], cwd=ROOT, env=worker_env, start_new_session=True)
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if time.monotonic() > deadline or worker.poll() is not None:
            sys.exit("the worker did not start")
    return worker


def _launch_and_wait(campaign, user, worker, store) -> tuple[float, float, int]:
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
        if worker.poll() is not None:
            sys.exit("the worker died")
        now = time.perf_counter()
        if prepared_at is None:
            if Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DISPATCHED).exists():
                prepared_at = now
                queries_prepared = int(store.get(KEY + "queries") or 0)
            continue
        # A cheap question (one probe of the campaign-status index), asked every 0.2 s while the worker runs.
        if not messages.filter(status__in=("queued", "submitting")).exists():
            sent_at = now
        if now - launched > 600:
            sys.exit("gave up after 10 minutes")
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
    worker = _start_worker(app)
    try:
        store.delete(KEY + "queries", KEY + "peak_kib")
        prepare_seconds, whole_seconds, queries_prepared = _launch_and_wait(campaign, user, worker, store)
        queries_total = int(store.get(KEY + "queries") or 0)
        peaks = {pid: int(kib) for pid, kib in store.hgetall(KEY + "peak_kib").items()}
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)

    messages = Message.objects.filter(campaign=campaign)
    total = messages.count()
    handed_over = messages.exclude(gateway_message_id="").count()
    print(f"messages: {total} prepared, {handed_over} handed to the gateway (batch size {args.batch_size})")
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
    verdict = "met" if whole_seconds <= TARGET_SECONDS else "MISSED"
    print(f"target: handed to the gateway in {TARGET_SECONDS} s or less: {verdict} ({whole_seconds:.1f} s)")


if __name__ == "__main__":
    main()
