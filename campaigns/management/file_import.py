"""What the commands importing a file into an org share: the file and --org arguments, a progress bar, skipped rows
reported as they come, and a file that cannot be imported said as a CommandError (nothing imported)."""

from abc import ABC, abstractmethod
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import reset_queries

from campaigns.base.csv_imports import ImportFileError, ImportReport, count_rows, progress_bar
from campaigns.management.org_argument import org_from_argument
from campaigns.models import Org


def org_and_file(options: dict) -> tuple[Org, Path]:
    org = org_from_argument(options["org"])
    path: Path = options["file"]
    if not path.is_file():
        raise CommandError(f"There is no file {path}.")
    return org, path


class CsvImportCommand(BaseCommand, ABC):
    """A CSV import in batches; a subclass says what it imports (`import_file`) and what it reports (`summary`)."""

    org_help = "The id or name of the organisation."
    progress_label = "Importing"
    batch_size = 1000

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--org", required=True, help=self.org_help)
        parser.add_argument("--batch-size", type=int, default=self.batch_size)
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, **options):
        org, path = org_and_file(options)
        try:
            report = self.import_file(
                path=path,
                org=org,
                options=options,
                total_rows=count_rows(path),
                on_progress=_draw(None if options["no_progress"] else self.progress_label, self.stderr),
                on_row_error=lambda error: self.stdout.write(f"Skipped {error}"),
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.summary(report, options))

    @abstractmethod
    def import_file(self, *, path: Path, org: Org, options: dict, total_rows: int, on_progress, on_row_error):
        """Import the file into the org; returns the import's report."""

    @abstractmethod
    def summary(self, report, options: dict) -> str:
        """What the import did, in words, for the last line of the output."""


def _draw(label: str | None, stream):
    def on_progress(report: ImportReport) -> None:
        # With DEBUG on, Django keeps every SQL statement of the run; a long import must not grow with it.
        reset_queries()
        if label:
            progress_bar(report.processed, report.total_rows, label=label, stream=stream)

    return on_progress
