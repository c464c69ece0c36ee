"""manage.py click_partitions [--from YYYY-MM]: the click table's months, as beat keeps them every hour."""

from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError

from linktrack.click_partitions import click_partitions, click_partitions_keep, partitioned


class Command(BaseCommand):
    help = (
        "Create the click table's partitions for this month and the months ahead (CLICK_PARTITIONS_AHEAD), move "
        "clicks out of the DEFAULT partition, drop months older than CLICK_RETENTION_MONTHS, then list the "
        "partitions with their clicks and size."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first_month", help="also create partitions from this month (YYYY-MM)")

    def handle(self, *args, first_month=None, **options):
        first = _month(first_month) if first_month else None
        kept = click_partitions_keep(first_month=first)
        for name in kept.created:
            self.stdout.write(f"created {name}")
        if kept.dropped:
            self.stdout.write(f"dropped (CLICK_RETENTION_MONTHS): {kept.dropped}")
        if not partitioned():
            self.stdout.write("The click table is a plain table here (partitions are made on PostgreSQL only).")
            return
        for partition in click_partitions():
            month = f"{partition.month:%Y-%m}" if partition.month else "DEFAULT"
            self.stdout.write(
                f"{month:8} {partition.name:28} about {partition.rows:,} click(s), {partition.size_bytes / 2**20:,.1f} MiB"
            )
        if kept.in_default:
            self.stdout.write(self.style.WARNING(f"{kept.in_default} click(s) are in the DEFAULT partition."))


def _month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise CommandError(f"--from takes a month as YYYY-MM (e.g. 2026-01), not {text!r}.") from None
