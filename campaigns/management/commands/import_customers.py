"""manage.py import_customers customers.csv --org "Acme Retail" [--list "Diwali 2026"]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import reset_queries

from campaigns.base.csv_imports import ImportFileError, ImportReport, count_rows, progress_bar
from campaigns.customers.customer_import import BATCH_SIZE, import_customers
from campaigns.management.org_argument import org_from_argument


class Command(BaseCommand):
    help = (
        "Import customers from a CSV file (columns mobile, email, name, external_id, coupon_code, coupon_expiry; "
        "any other column becomes an attribute). Re-importing updates customers, never duplicates them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--org", required=True, help="The id or name of the organisation the customers belong to.")
        parser.add_argument("--list", default="", help="Also add every imported customer to this list.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, **options):
        org = org_from_argument(options["org"])
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"There is no file {path}.")
        try:
            total = count_rows(path)
            report = import_customers(
                path=path,
                org_id=org.pk,
                list_name=options["list"],
                batch_size=options["batch_size"],
                total_rows=total,
                on_progress=_draw(None if options["no_progress"] else "Importing customers", self.stderr),
                on_row_error=lambda error: self.stdout.write(f"Skipped {error}"),
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{report.created:,} customers created, {report.updated:,} updated, "
            f"{report.unchanged:,} already up to date, {report.coupons:,} coupons saved, "
            f"{report.merged:,} repeated rows merged, {report.error_count:,} rows skipped."
        )
        if options["list"]:
            self.stdout.write(f"Imported customers are in the list “{options['list']}”.")


def _draw(label: str | None, stream):
    def on_progress(report: ImportReport) -> None:
        # With DEBUG on, Django keeps every SQL statement of the run; a long import must not grow with it.
        reset_queries()
        if label:
            progress_bar(report.processed, report.total_rows, label=label, stream=stream)

    return on_progress
