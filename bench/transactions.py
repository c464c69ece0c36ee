#!/usr/bin/env python
"""Benchmark transactions against the click data set of bench/insights.py: the CSV import of N transactions (with
their attribution and the sales counters) and the pages that show the sales, warm and cold.

Uses the org of bench/insights.py (20,000 customers, 50 campaigns of 20,000 delivered messages, the clicks), seeding
it first when the database has none with that many clicks. Then writes a CSV of N purchases by those customers (by
mobile; 2% by someone who is no customer), spread over the 90 days of the campaigns, and times
`import_transactions` on it (the path of the Transactions page's upload and of `manage.py import_transactions`),
then times the campaign page, Insights and Compare through the real views as bench/insights.py does.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linktrack_insights REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/transactions.py --clicks 1000000 --transactions 1000000

A second run imports the same file again (every row then unchanged) unless --fresh is given, which deletes the
org's transactions first.
"""

import argparse
import csv
import importlib.util
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from common import create_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linktrack.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-transactions-" + "x" * 50)

TARGET_IMPORT_SECONDS = 120
TARGET_WARM_MS = 100


def _bench_insights():
    """bench/insights.py, loaded under another name (the project has an app called insights)."""
    spec = importlib.util.spec_from_file_location("bench_insights", Path(__file__).with_name("insights.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_file(path: Path, count: int, *, days: int, customers: int) -> None:
    from django.utils import timezone

    now = timezone.now()
    randoms = random.Random(17)
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["transaction_id", "time", "amount", "mobile", "store", "channel"])
        for n in range(count):
            customer = randoms.randrange(customers) if randoms.random() > 0.02 else customers + randoms.randrange(9999)
            moment = now - timezone.timedelta(seconds=randoms.randrange(days * 86400))
            writer.writerow(
                [
                    f"B{n:08d}",
                    moment.isoformat(timespec="seconds"),
                    f"{randoms.randrange(100, 500000) / 100:.2f}",
                    f"+9190{customer:08d}",
                    f"Store {n % 40}",
                    "online" if n % 3 else "store",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="delete the org's transactions before importing")
    args = parser.parse_args()
    create_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from campaigns.customers.transaction_import import import_transactions
    from campaigns.models import CampaignSales, Org, Transaction

    bench = _bench_insights()
    call_command("migrate", verbosity=0)
    org = Org.objects.filter(name__startswith=f"Bench insights {args.clicks} ").order_by("-pk").first()
    if org is None:
        org = bench.seed(args.clicks)
    bench.build_counters(org)
    if args.fresh:
        CampaignSales.objects.filter(campaign__org=org).delete()
        Transaction.objects.filter(org=org).delete()
        # The deleted rows' index entries carry the same transaction ids as the file: left there, every insert would
        # visit a dead duplicate (a fresh import of new purchases meets none).
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Transaction._meta.db_table}")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transactions.csv"
        started = time.perf_counter()
        write_file(path, args.transactions, days=bench.DAYS, customers=bench.CUSTOMERS)
        print(f"{args.transactions:,} rows written in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        report = import_transactions(path=path, org_id=org.pk)
        seconds = time.perf_counter() - started
    verdict = "ok" if seconds < TARGET_IMPORT_SECONDS else "SLOW"
    print(
        f"import: {report.processed:,} rows in {seconds:.0f} s = {report.processed / seconds:,.0f} rows/s "
        f"({report.created:,} created, {report.unchanged:,} unchanged, {report.error_count:,} skipped)  {verdict}"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    attributed = Transaction.objects.filter(org=org, message_campaign__isnull=False).count()
    clicked = Transaction.objects.filter(org=org, click_campaign__isnull=False).count()
    print(f"attributed: {attributed:,} by a message, {clicked:,} after a click")

    results = [
        row
        for row in bench.time_pages(org, args.warm_runs)
        if row[0].startswith(("Insights", "Campaign page", "Compare"))
    ]
    print(f"\n{Transaction.objects.filter(org=org).count():,} transactions | page | cold ms | warm ms | queries")
    for name, cold, warm, count, _ in results:
        print(f"  {name:28} {cold:8.0f} {warm:8.0f} {count:5}  {'ok' if warm < TARGET_WARM_MS else 'SLOW'}")


if __name__ == "__main__":
    main()
