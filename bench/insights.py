#!/usr/bin/env python
"""Benchmark the report pages at a brand's volume: 1,000,000 or 10,000,000 clicks over 50 campaigns and 90 days.

Fills the PostgreSQL database named by DATABASE_URL with generated rows in SQL (`generate_series`, not the ORM): one
org on India time, 20,000 customers, 50 campaigns sent over the last 90 days (a quarter of them email) with two
tracked links each, 20,000 delivered messages per campaign, and N clicks (5% link previews, 3% without a recipient,
most within hours of sending, a tail over the following weeks). Then builds the click counters from the stored
clicks (manage.py build_click_counters, timed: the path of data stored before the counters) and times each page
through the real views (Django test client, signed in as the org's manager, DEBUG off): the first call (cold) and
the median of the next ones (warm), with the queries each ran and the plans of the slowest.

Last, times the click flush with the counters: clicks appended to a Redis stream, stored per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linktrack_insights REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/insights.py --clicks 1000000 [--reuse] [--flush 100000]

A run with the same --clicks reuses the data of the last one when given --reuse.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from common import create_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linktrack.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-insights-" + "x" * 50)

CAMPAIGNS, MESSAGES, CUSTOMERS, DAYS = 50, 20_000, 20_000, 90
TARGET_WARM_MS, TARGET_COLD_MS = 100, 500
AGENTS = [
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
]
BOT = "WhatsApp/2.23.20.0 A"


def filled_columns(cursor, table: str, given: dict[str, str]) -> tuple[str, str]:
    """The column list and SELECT expressions of an INSERT ... SELECT: `given`, and a plain value for every other
    NOT NULL column without a default (Django keeps defaults in Python, so SQL must name them)."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO' AND is_identity = 'NO' "
        "AND column_default IS NULL",
        [table],
    )
    plain = {"integer": "0", "smallint": "0", "bigint": "0", "boolean": "false", "jsonb": "'{}'::jsonb"}
    columns = dict(given)
    for name, kind in cursor.fetchall():
        if name not in columns:
            columns[name] = "now()" if kind.startswith("timestamp") else plain.get(kind, "''")
    return ", ".join(columns), ", ".join(columns.values())


def seed(clicks: int):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign, Membership, Org, SenderId, Template
    from linktrack.click_partitions import click_partitions_keep, month_of
    from linktrack.models import ShortLink

    stamp = time.strftime("%Y%m%d-%H%M%S")
    org = Org.objects.create(name=f"Bench insights {clicks} {stamp}", sms_link_tracking=True, timezone="Asia/Kolkata")
    manager, _ = get_user_model().objects.get_or_create(email=f"insights-{clicks}-{stamp}@bench.test")
    Membership.objects.create(user=manager, org=org)
    sender = SenderId.objects.create(
        org=org, header="BENCHI", category=SenderId.Category.SERVICE_IMPLICIT, dlt_entity_id="1701160000000000009"
    )
    templates = {
        channel: Template.objects.create(
            org=org, name=f"Bench {channel}", channel=channel, sender=sender, body="Hi {#var#}, the sale: {#var#}"
        )
        for channel in ("sms", "email")
    }
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        columns, values = filled_columns(
            cursor,
            "campaigns_customer",
            {"org_id": str(org.pk), "name": "'Bench ' || n", "mobile": "'+9190' || lpad(n::text, 8, '0')"},
        )
        cursor.execute(
            f"INSERT INTO campaigns_customer ({columns}) SELECT {values} FROM generate_series(1, {CUSTOMERS}) n"
        )
        cursor.execute("SELECT min(id) FROM campaigns_customer WHERE org_id = %s", [org.pk])
        first_customer = cursor.fetchone()[0]
        cursor.execute("DROP TABLE IF EXISTS bench_campaigns")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_campaigns (idx int, campaign_id int, link_a int, link_b int, channel text, "
            "first_message bigint, sent_at timestamptz)"
        )
        for idx in range(CAMPAIGNS):
            channel = "email" if idx % 4 == 3 else "sms"
            sent_at = now - timezone.timedelta(days=DAYS - idx * DAYS / CAMPAIGNS)
            campaign = Campaign.objects.create(
                org=org, name=f"Bench {idx:02d}", template=templates[channel], status="dispatched", launched_at=sent_at
            )
            links = [
                ShortLink.objects.create(campaign=campaign, destination=f"https://shop.acme.test/{idx}/{part}").pk
                for part in ("sale", "track")
            ]
            columns, values = filled_columns(
                cursor,
                "delivery_message",
                {
                    "campaign_id": str(campaign.pk),
                    "customer_id": f"{first_customer} + n",
                    "channel": f"'{channel}'",
                    "recipient": "'+9190' || lpad(n::text, 8, '0')",
                    "status": "'delivered'",
                    "sent_at": "%s",
                    "created_at": "%s",
                },
            )
            cursor.execute(
                f"INSERT INTO delivery_message ({columns}) SELECT {values} FROM generate_series(0, {MESSAGES - 1}) n "
                "RETURNING id",
                [sent_at, sent_at],
            )
            first_message = min(row[0] for row in cursor.fetchall())
            cursor.execute(
                "INSERT INTO bench_campaigns VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [idx, campaign.pk, *links, channel, first_message, sent_at],
            )
        print(
            f"{CUSTOMERS:,} customers, {CAMPAIGNS} campaigns, {CAMPAIGNS * MESSAGES:,} messages in "
            f"{time.perf_counter() - started:.0f} s"
        )
        # The clicks' months get their partitions first (beat makes them ahead of time; these are past months).
        click_partitions_keep(first_month=month_of(now - timezone.timedelta(days=DAYS + 1)))
        started = time.perf_counter()
        agents = "ARRAY[" + ", ".join(f"'{agent}'" for agent in AGENTS) + "]"
        # Per click: a campaign; a recipient (3% none); when (70% within hours of sending, the rest over the next
        # 30 days, never after now); a link preview 5% of the time.
        cursor.execute(
            f"""
            INSERT INTO linktrack_click
                (event_id, short_link_id, campaign_id, message_id, channel, clicked_at, ip_hash, user_agent, is_bot)
            SELECT 'bench-' || c.campaign_id || '-' || g, CASE WHEN r1 < 0.7 THEN c.link_a ELSE c.link_b END, c.campaign_id,
                   CASE WHEN r2 < 0.03 THEN NULL ELSE c.first_message + floor(r3 * {MESSAGES})::bigint END,
                   c.channel,
                   LEAST(%s, c.sent_at + CASE WHEN r4 < 0.7 THEN -ln(1 - r5) * interval '3 hours'
                                              ELSE r5 * interval '30 days' END),
                   md5((floor(r3 * {MESSAGES}))::text),
                   CASE WHEN r6 < 0.05 THEN '{BOT}' ELSE ({agents})[1 + floor(r6 * 4)::int] END,
                   r6 < 0.05
            FROM (SELECT g, mod(g, {CAMPAIGNS}) AS idx, random() r1, random() r2, random() r3, random() r4,
                         random() r5, random() r6 FROM generate_series(1, {clicks}) g) s
            JOIN bench_campaigns c ON c.idx = s.idx
            """,
            [now],
        )
        cursor.execute("ANALYZE")
    print(f"{clicks:,} clicks stored in {time.perf_counter() - started:.0f} s")
    return org


def build_counters(org) -> None:
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("build_click_counters", "--org", str(org.pk), stdout=quiet)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT (SELECT count(*) FROM linktrack_dailyclicks), (SELECT count(*) FROM linktrack_uniqueclickers), "
            "(SELECT count(*) FROM linktrack_hourlyclicks), (SELECT count(*) FROM linktrack_clickerday)"
        )
        daily, unique, hourly, days = cursor.fetchone()
    print(
        f"counters built from the stored clicks in {seconds:.0f} s: {daily:,} daily, {unique:,} unique-clicker, "
        f"{hourly:,} hourly rows; {days:,} clicker days"
    )


def time_pages(org, warm_runs: int) -> list[tuple]:
    from django.db import connection, reset_queries
    from django.db.models import Sum
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from campaigns.models import Campaign, Membership
    from linktrack.models import DailyClicks

    manager = Membership.objects.filter(org=org).first().user
    busiest = (
        DailyClicks.objects.filter(org_id=org.pk).values("campaign_id").annotate(total=Sum("total")).order_by("-total")
    ).first()["campaign_id"]
    compared = list(Campaign.objects.filter(org=org).order_by("pk").values_list("pk", flat=True)[:5])
    pages = [
        ("Insights, last 90 days", reverse("insights:overview") + f"?org={org.pk}&period=90"),
        ("Insights, all time", reverse("insights:overview") + f"?org={org.pk}&period=all"),
        ("Campaign list", reverse("campaigns:list") + f"?org={org.pk}"),
        ("Insights CSV, all time", reverse("insights:export") + f"?org={org.pk}&period=all"),
        ("Campaign page (busiest)", reverse("campaigns:detail", args=[busiest])),
        ("Compare, 5 campaigns", reverse("insights:compare") + "?" + "&".join(f"c={pk}" for pk in compared)),
    ]
    client = Client()
    client.force_login(manager)
    results = []
    for name, url in pages:
        timings, slowest = [], []
        for _ in range(1 + warm_runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
                timings.append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200, (name, response.status_code)
            slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:2]
            count = len(queries.captured_queries)
        reset_queries()
        results.append((name, timings[0], statistics.median(timings[1:]), count, slowest))
    return results


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        return "\n".join("      " + row[0] for row in cursor.fetchall()[:14])


def time_flush(count: int) -> None:
    import redis
    from django.conf import settings

    from campaigns.models import Campaign
    from delivery.models import Message
    from linktrack.models import ShortLink
    from linktrack.redirect.click_flush import clicks_flush
    from linktrack.redirect.clicks import click_event

    if not settings.CLICK_STREAM_URL:
        print("flush: no REDIS_URL, skipped")
        return
    stream = redis.Redis.from_url(settings.CLICK_STREAM_URL)
    stream.delete(settings.CLICK_STREAM_KEY)
    campaign = Campaign.objects.filter(name__startswith="Bench").order_by("-pk").first()
    link = ShortLink.objects.filter(campaign=campaign).order_by("pk").first()
    messages = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True)[:5000])
    pipe = stream.pipeline()
    for n in range(count):
        pipe.xadd(
            settings.CLICK_STREAM_KEY,
            click_event(
                link.pk,
                messages[n % len(messages)],
                domain=None,
                ip=f"10.0.{n % 250}.1",
                user_agent=AGENTS[n % 4],
                method="GET",
            ),
        )
    pipe.execute()
    started = time.perf_counter()
    stored = 0
    while handled := clicks_flush(max_batches=10):
        stored += handled
    seconds = time.perf_counter() - started
    print(
        f"flush with the counters: {stored:,} clicks in {seconds:.1f} s = {stored / seconds:,.0f} clicks/s "
        f"(batches of {settings.CLICK_FLUSH_BATCH})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clicks", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="use the org of an earlier run with these --clicks")
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--flush", type=int, default=100_000, help="clicks for the flush timing (0: skip)")
    args = parser.parse_args()
    create_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command

    from campaigns.models import Org

    call_command("migrate", verbosity=0)
    org = (
        Org.objects.filter(name__startswith=f"Bench insights {args.clicks} ").order_by("-pk").first()
        if args.reuse
        else None
    )
    if org is None:
        org = seed(args.clicks)
    build_counters(org)  # resumable: counts only the campaigns not counted yet
    results = time_pages(org, args.warm_runs)
    print(f"\n{args.clicks:,} clicks | page | cold ms | warm ms (median of {args.warm_runs}) | queries")
    for name, cold, warm, count, _ in results:
        verdict = "ok" if warm < TARGET_WARM_MS and cold < TARGET_COLD_MS else "SLOW"
        print(f"  {name:28} {cold:8.0f} {warm:8.0f} {count:5}  {verdict}")
    name, _, _, _, slowest = max(results, key=lambda row: row[2])
    print(f"\nslowest page ({name}): its two slowest queries")
    for query in slowest:
        print(f"  {float(query['time']) * 1000:.1f} ms: {query['sql'][:300]}")
        print(explain(query["sql"]))
    if args.flush:
        time_flush(args.flush)


if __name__ == "__main__":
    main()
