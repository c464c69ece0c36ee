#!/usr/bin/env python
"""Two worker processes send one campaign: is every message handed over exactly once, and are the credits exact?

Migrates the PostgreSQL database named by DATABASE_URL, creates a bench org with N customers (default 100,000) and a
campaign with two tracked links, starts W separate `celery worker` processes (default 2, each `--pool=solo`: one
process each, not one worker with a pool of two) against the broker in CELERY_BROKER_URL (RabbitMQ), else REDIS_URL,
launches the campaign and waits until every message has been handed to the simulated gateway. Then it checks, from
a log that a PostgreSQL trigger keeps of every status change and the session (worker) that made it:

- every customer has one message, each with a gateway id of its own;
- each message was claimed for the gateway once and recorded as sent once;
- the credits taken are the messages' segments, once, and settling the campaign gives nothing back;

and prints each worker's share, the time until all were handed over and each worker's peak memory. It exits with
status 1 if any check fails. Run by hand, not in the tests:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linktrack_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
    CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// .venv/bin/python bench/two_workers.py [--customers 100000]

Receipts are held back (SIMULATED_RECEIPT_DELAY_SECONDS one hour, the queues purged at the end) so that the run
measures the hand-over. The trigger costs each status change an insert: read the time as a check's, and take speed
figures from bench/dispatch.py.
"""

import argparse
import os
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
APPLICATION_NAME = "bench-two-workers"

LOG_CREATE = """
    DROP TRIGGER IF EXISTS bench_two_workers_log ON delivery_message;
    DROP TABLE IF EXISTS bench_two_workers_log;
    CREATE TABLE bench_two_workers_log (message_id bigint NOT NULL, status text NOT NULL, changed_by text);
    CREATE OR REPLACE FUNCTION bench_two_workers_log() RETURNS trigger AS $$
    BEGIN
        IF NEW.status IS DISTINCT FROM OLD.status THEN
            INSERT INTO bench_two_workers_log VALUES (NEW.id, NEW.status, current_setting('application_name'));
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql;
    CREATE TRIGGER bench_two_workers_log AFTER UPDATE ON delivery_message
        FOR EACH ROW EXECUTE FUNCTION bench_two_workers_log();
"""
LOG_DROP = """
    DROP TRIGGER IF EXISTS bench_two_workers_log ON delivery_message;
    DROP FUNCTION IF EXISTS bench_two_workers_log();
    DROP TABLE IF EXISTS bench_two_workers_log;
"""


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2, help="separate worker processes (default 2)")
    parser.add_argument("--batch-size", type=int, default=1000, help="DISPATCH_BATCH_SIZE for the workers")
    return parser.parse_args()


def _bench_campaign(customers: int):
    """A fresh org with link tracking on, N customers and a draft campaign with two tracked links to all of them."""
    from django.db import connection

    from campaigns.lifecycle import services
    from campaigns.models import Customer, Org, SenderId, Template, User

    stamp = time.strftime("%Y%m%d-%H%M%S")
    org = Org.objects.create(name=f"Bench two workers {stamp}", sms_link_tracking=True, credits=10**9)
    user, _ = User.objects.get_or_create(email="bench@linktrack.test")
    sender = SenderId.objects.create(
        org=org, header="BENCHW", category=SenderId.Category.SERVICE_IMPLICIT, dlt_entity_id="1701160000000000008"
    )
    template = Template.objects.create(
        org=org,
        name="Bench",
        sender=sender,
        dlt_template_id="1707160000000000008",
        body="Hi {#var#}, your order is on its way: {#var#} Offers for you: {#var#} - Acme",
    )
    for start in range(0, customers, 10_000):
        Customer.objects.bulk_create(
            Customer(org=org, name=f"Cust {n}", mobile=f"+9191{n:08d}", external_id=f"W{n}")
            for n in range(start, min(start + 10_000, customers))
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as autovacuum keeps them on a normal server
    campaign = services.campaign_create(
        org=org,
        user=user,
        name=f"Bench two workers {stamp}",
        template=template,
        slot_values=[
            {"source": "field", "value": "name"},
            {"source": "url", "value": "https://shop.acme.test/track"},
            {"source": "url", "value": "https://shop.acme.test/offers"},
        ],
    )
    return campaign, user


def _worker_environment(name: str) -> dict[str, str]:
    """As in production (DEBUG off, real secrets), with the session named after the worker for the log."""
    url = os.environ["DATABASE_URL"]
    return {
        **os.environ,
        "DATABASE_URL": f"{url}{'&' if '?' in url else '?'}application_name={APPLICATION_NAME}-{name}",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "HASHIDS_SALT": os.environ.get("HASHIDS_SALT", secrets.token_urlsafe(24)),
        "SIMULATED_RECEIPT_DELAY_SECONDS": "3600",
    }


def _start_workers(count: int) -> dict[str, subprocess.Popen]:
    from linktrack.celery import app

    workers = {}
    for number in range(1, count + 1):
        name = f"worker{number}"
        workers[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "linktrack",
                "worker",
                "--loglevel=WARNING",
                "--pool=solo",
                "-n",
                f"{name}@%h",
            ],
            cwd=ROOT,
            env=_worker_environment(name),
            stdout=subprocess.DEVNULL,  # the banner; warnings and errors go to stderr
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while len(app.control.ping(timeout=1.0)) < count:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers.values()):
            sys.exit("the workers did not start")
    return workers


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _checks(campaign, customers: int, credits_before: int) -> list[tuple[str, bool, str]]:
    from django.db import connection
    from django.db.models import Sum

    from campaigns.models import Campaign, Org
    from campaigns.sending.holds import campaign_settle_credits
    from delivery.models import Message

    messages = Message.objects.filter(campaign=campaign)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*), count(DISTINCT message_id) FROM bench_two_workers_log "
            "WHERE status IN ('submitting', 'sent') GROUP BY status"
        )
        changes = {status: (total, distinct) for status, total, distinct in cursor.fetchall()}
    spent = messages.aggregate(n=Sum("segments"))["n"] or 0
    charged = Campaign.objects.get(pk=campaign.pk).credits_charged
    given_back = campaign_settle_credits(campaign_id=campaign.pk)
    credits_after = Org.objects.get(pk=campaign.org_id).credits
    prepared, recipients = messages.count(), messages.values("customer").distinct().count()
    gateway_ids = messages.exclude(gateway_message_id="").values("gateway_message_id").distinct().count()
    return [
        (
            "one message per customer",
            prepared == recipients == customers,
            f"{prepared} messages, {recipients} customers",
        ),
        ("each with a gateway id of its own", gateway_ids == customers, f"{gateway_ids} distinct gateway ids"),
        (
            "claimed for the gateway once each",
            changes.get("submitting") == (customers, customers),
            f"{changes.get('submitting')} (changes, messages)",
        ),
        ("recorded as sent once each", changes.get("sent") == (customers, customers), f"{changes.get('sent')}"),
        ("credits taken once per segment", charged == spent, f"charged {charged}, segments {spent}"),
        ("nothing to give back", given_back == 0, f"given back {given_back}"),
        (
            "the org's balance",
            credits_after == credits_before - spent,
            f"{credits_before} - {spent} = {credits_after}",
        ),
    ]


def main() -> None:
    args = _arguments()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL), REDIS_URL and (for RabbitMQ) CELERY_BROKER_URL.")
    create_database(os.environ["DATABASE_URL"])
    os.environ["DISPATCH_BATCH_SIZE"] = str(args.batch_size)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from campaigns.lifecycle import services
    from campaigns.models import Campaign, Org
    from delivery.models import Message
    from linktrack.celery import app

    call_command("migrate", verbosity=0)
    print(f"broker: {settings.CELERY_BROKER_URL.split('://')[0]}, {args.workers} worker processes")
    app.control.purge()
    campaign, user = _bench_campaign(args.customers)
    credits_before = Org.objects.get(pk=campaign.org_id).credits
    with connection.cursor() as cursor:
        cursor.execute(LOG_CREATE)
    workers = _start_workers(args.workers)
    try:
        launched = time.perf_counter()
        services.campaign_launch(campaign=campaign, user=user)
        messages = Message.objects.filter(campaign=campaign)
        while not (
            Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DISPATCHED).exists()
            and not messages.filter(status__in=("queued", "submitting")).exists()
        ):
            time.sleep(0.5)
            if any(w.poll() is not None for w in workers.values()):
                sys.exit("a worker died")
            if time.perf_counter() - launched > 1800:
                sys.exit("gave up after 30 minutes")
        seconds = time.perf_counter() - launched
        peaks = {name: _peak_mib(w.pid) for name, w in workers.items()}
    finally:
        for worker in workers.values():
            worker.send_signal(signal.SIGTERM)
        for worker in workers.values():
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        app.control.purge()  # the receipts held back

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT changed_by, count(*) FROM bench_two_workers_log WHERE status = 'sent' GROUP BY changed_by"
            )
            shares = dict(cursor.fetchall())
        checks = _checks(campaign, args.customers, credits_before)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(LOG_DROP)

    print(
        f"all {args.customers:,} handed over {seconds:.1f} s after launch ({args.customers / seconds:,.0f} messages/s)"
    )
    for name, peak in peaks.items():
        share = shares.get(f"{APPLICATION_NAME}-{name}", 0)
        print(f"{name}: handed over {share:,}, peak memory {peak:.0f} MiB")
    for what, passed, detail in checks:
        print(f"{'ok  ' if passed else 'FAIL'} {what}: {detail}")
    if not all(passed for _, passed, _ in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
