"""manage.py import_ndnc register.csv --org "Acme Retail\""""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.base.csv_imports import ImportFileError, count_rows
from campaigns.customers.ndnc import BATCH_SIZE, import_ndnc
from campaigns.management.commands.import_customers import _draw
from campaigns.management.org_argument import org_from_argument


class Command(BaseCommand):
    help = (
        "Import an org's NDNC (DND) register from a CSV file: a mobile column and optionally categories "
        "(1,3 for those categories only; 0, all or empty for fully blocked)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--org", required=True, help="The id or name of the organisation whose register this is.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, **options):
        org = org_from_argument(options["org"])
        path = options["file"]
        if not path.is_file():
            raise CommandError(f"There is no file {path}.")
        try:
            report = import_ndnc(
                path=path,
                org_id=org.pk,
                batch_size=options["batch_size"],
                total_rows=count_rows(path),
                on_progress=_draw(None if options["no_progress"] else "Importing NDNC numbers", self.stderr),
                on_row_error=lambda error: self.stdout.write(f"Skipped {error}"),
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{report.created:,} numbers added to the NDNC register, {report.updated:,} updated, "
            f"{report.merged:,} repeated numbers combined, {report.error_count:,} rows skipped."
        )
