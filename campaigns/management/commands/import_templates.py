"""manage.py import_templates --org "Acme Retail" templates.csv [--check-only]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from campaigns.base.csv_imports import ImportFileError
from campaigns.dlt.portal_file import MAX_FILE_BYTES
from campaigns.dlt.template_import import import_templates
from campaigns.dlt.template_rows import Outcome
from campaigns.management.file_import import org_and_file


class Command(BaseCommand):
    help = (
        "Import DLT content templates from the template list a DLT portal exports (CSV, UTF-8 or UTF-16). Each row "
        "is checked as the Templates page checks a template and reported by line; importing the file again updates "
        "the templates, never duplicates them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--org", required=True, help="The organisation's id or name.")
        parser.add_argument("--check-only", action="store_true", help="Report what would happen; save nothing.")

    def handle(self, *args, **options):
        org, path = org_and_file(options)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(
                f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; a DLT portal's template list is far "
                "smaller: check that it is the export of content templates."
            )
        try:
            report = import_templates(org=org, data=path.read_bytes(), dry_run=options["check_only"])
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        if report.ignored_columns:
            self.stdout.write("Ignored columns: " + ", ".join(f"“{name}”" for name in report.ignored_columns) + ".")
        for row in report.rows:
            self.stdout.write(str(row))
            for warning in row.warnings:
                self.stdout.write(f"    note: {warning}")
        self.stdout.write(report.summary())
        if report.counts()[Outcome.REFUSED] or report.counts()[Outcome.CONFLICT]:
            self.stdout.write("Rows refused or in conflict were not imported: correct them and run the import again.")
