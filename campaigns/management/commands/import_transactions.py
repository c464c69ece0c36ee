"""manage.py import_transactions transactions.csv --org "Acme Retail" """

from campaigns.customers.transaction_import import BATCH_SIZE, import_transactions
from campaigns.management.file_import import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import transactions from a CSV file (columns transaction_id, time, amount, and external_id, mobile or email; "
        "optionally currency, store, channel). A transaction id seen before changes only its amount, recorded."
    )
    org_help = "The id or name of the organisation the transactions belong to."
    progress_label = "Importing transactions"
    batch_size = BATCH_SIZE

    def import_file(self, *, path, org, options, total_rows, on_progress, on_row_error):
        return import_transactions(
            path=path,
            org_id=org.pk,
            batch_size=options["batch_size"],
            total_rows=total_rows,
            on_progress=on_progress,
            on_row_error=on_row_error,
        )

    def summary(self, report, options) -> str:
        return (
            f"{report.created:,} transactions created, {report.updated:,} amounts changed, "
            f"{report.unchanged:,} already stored as they are, {report.error_count:,} rows skipped."
        )
