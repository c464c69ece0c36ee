"""manage.py import_customers customers.csv --org "Acme Retail" [--list "Diwali 2026"]"""

from campaigns.customers.customer_import import BATCH_SIZE, import_customers
from campaigns.management.file_import import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import customers from a CSV file (columns mobile, email, name, external_id, coupon_code, coupon_expiry; "
        "any other column becomes an attribute). Re-importing updates customers, never duplicates them."
    )
    org_help = "The id or name of the organisation the customers belong to."
    progress_label = "Importing customers"
    batch_size = BATCH_SIZE

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--list", default="", help="Also add every imported customer to this list.")

    def import_file(self, *, path, org, options, total_rows, on_progress, on_row_error):
        return import_customers(
            path=path,
            org_id=org.pk,
            list_name=options["list"],
            batch_size=options["batch_size"],
            total_rows=total_rows,
            on_progress=on_progress,
            on_row_error=on_row_error,
        )

    def summary(self, report, options) -> str:
        summary = (
            f"{report.created:,} customers created, {report.updated:,} updated, "
            f"{report.unchanged:,} already up to date, {report.coupons:,} coupons saved, "
            f"{report.merged:,} repeated rows merged, {report.error_count:,} rows skipped."
        )
        if options["list"]:
            summary += f"\nImported customers are in the list “{options['list']}”."
        return summary
