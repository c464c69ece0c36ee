"""manage.py import_ndnc register.csv --org "Acme Retail\""""

from campaigns.customers.ndnc import BATCH_SIZE, import_ndnc
from campaigns.management.file_import import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import an org's NDNC (DND) register from a CSV file: a mobile column and optionally categories "
        "(1,3 for those categories only; 0, all or empty for fully blocked)."
    )
    org_help = "The id or name of the organisation whose register this is."
    progress_label = "Importing NDNC numbers"
    batch_size = BATCH_SIZE

    def import_file(self, *, path, org, options, total_rows, on_progress, on_row_error):
        return import_ndnc(
            path=path,
            org_id=org.pk,
            batch_size=options["batch_size"],
            total_rows=total_rows,
            on_progress=on_progress,
            on_row_error=on_row_error,
        )

    def summary(self, report, options) -> str:
        return (
            f"{report.created:,} numbers added to the NDNC register, {report.updated:,} updated, "
            f"{report.merged:,} repeated numbers combined, {report.error_count:,} rows skipped."
        )
