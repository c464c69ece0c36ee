"""What every CSV import shares: reading an uploaded file row by row, row errors, progress.

An import runs in the background (a Celery task; in-process in embedded mode). The uploaded file is kept under
IMPORT_FILES_DIR until the task has read it, and the job's progress lives in the cache (Redis in production) so
any web process can show it.
"""

import csv
import json
import logging
import queue
import re
import secrets
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TypeVar

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# A single cell larger than this is refused by the CSV reader (the row is reported, the import goes on).
MAX_CELL_CHARS = 100_000
csv.field_size_limit(MAX_CELL_CHARS)
# The first line names the columns; a longer one is not a column list a person made (a binary file, a file with no
# line breaks), and reading it whole would hold a web process for minutes: it is refused after this many characters.
MAX_HEADER_CHARS = 10_000

# --- Reading a CSV file ------------------------------------------------------------------------------------------


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (encoding, header); nothing was imported."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # first line of the row in the file, counting the header as line 1
    cells: dict[str, str]


def header_key(name: str) -> str:
    """A column name as a key: "Customer Name " -> "customer_name"."""
    key = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    return key


def _open_text(path: Path) -> IO[str]:
    # utf-8-sig drops the byte-order mark Excel writes at the start of "CSV UTF-8" files.
    return open(path, encoding="utf-8-sig", newline="")


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _first_line(text: IO[str]) -> str:
    """The header line, read no further than MAX_HEADER_CHARS (ImportFileError when it is longer)."""
    try:
        # Two more characters: the longest line allowed may still end with "\r\n".
        line = text.readline(MAX_HEADER_CHARS + 2)
    except UnicodeDecodeError:
        raise ImportFileError("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload again.") from None
    if len(line.rstrip("\r\n")) > MAX_HEADER_CHARS:
        raise ImportFileError(
            f"The first line is longer than {MAX_HEADER_CHARS:,} characters — is this a CSV file? The first line "
            "must name the columns (mobile, email, name …), separated by commas."
        )
    return line


def count_rows(path: Path) -> int:
    """Data rows in the file (blank lines not counted); also proves the file is readable UTF-8 text.

    It reads the whole file: the import task counts, never the web request."""
    with _open_text(path) as text:
        first = _first_line(text)
        try:
            reader = csv.reader(text, delimiter=_delimiter(first))
            total = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    total += 1
                    continue
                if any(cell.strip() for cell in row):
                    total += 1
        except UnicodeDecodeError:
            raise ImportFileError(
                "The file is not UTF-8 text. In Excel choose Save As → “CSV UTF-8 (comma delimited)” and upload again."
            ) from None
    return total


def read_header(path: Path, *, aliases: dict[str, str]) -> list[str]:
    """The file's column keys; raises ImportFileError for an empty file or an unusable header."""
    with _open_text(path) as text:
        return _read_header(text, aliases)[0]


def check_import_file(path: Path, *, aliases: dict[str, str], check_columns: Callable[[list[str]], None]) -> None:
    """Refuse at once (ImportFileError) a file whose first line cannot name its columns.

    Only the first line is read, at most MAX_HEADER_CHARS of it, so an upload of any size is answered at once; the
    import task reads the rest (counting the rows, refusing a file that is not UTF-8 further down)."""
    check_columns(read_header(path, aliases=aliases))


def _read_header(text: IO[str], aliases: dict[str, str]) -> tuple[list[str], str]:
    header_line = _first_line(text)
    if not header_line.strip():
        raise ImportFileError("The file is empty: the first line must name the columns.")
    delimiter = _delimiter(header_line)
    # No cell of a line of MAX_HEADER_CHARS can pass the reader's MAX_CELL_CHARS: this reads without a csv.Error.
    header = next(csv.reader([header_line], delimiter=delimiter))
    keys = [aliases.get(header_key(name), header_key(name)) for name in header]
    # Trailing empty header cells (a spreadsheet's extra commas) are ignored; empty names elsewhere are not.
    while keys and not keys[-1]:
        keys.pop()
    problems = []
    for position, key in enumerate(keys, start=1):
        if not key:
            problems.append(f"column {position} has no name")
    duplicates = sorted(key for key, times in Counter(keys).items() if key and times > 1)
    if duplicates:
        problems.append("these columns appear twice: " + ", ".join(duplicates))
    if problems:
        raise ImportFileError("The first line must name each column once: " + "; ".join(problems) + ".")
    return keys, delimiter


def read_rows(
    path: Path,
    *,
    aliases: dict[str, str],
    on_bad_row: Callable[[int, str, str], None],
) -> tuple[list[str], Iterator[CsvRow]]:
    """The file's column keys and an iterator of its non-blank rows, keyed by column.

    `aliases` maps accepted header spellings to the canonical key (e.g. "phone" -> "mobile"). Rows with more
    values than columns, and rows the CSV reader cannot read, go to `on_bad_row(line, value, reason)`.
    Raises ImportFileError for an empty file or an unusable header.
    """
    text = _open_text(path)
    try:
        keys, delimiter = _read_header(text, aliases)
    except ImportFileError:
        text.close()
        raise

    def rows() -> Iterator[CsvRow]:
        with text:
            for line, values, problem in numbered_records(text, delimiter=delimiter, first_line=2):
                if values is None:
                    on_bad_row(line, "", problem)
                    continue
                if not any(value.strip() for value in values):
                    continue
                nul = next((i for i, value in enumerate(values) if "\x00" in value), None)
                if nul is not None:
                    # PostgreSQL stores no NUL in text: one such cell would fail its whole batch.
                    where = f"“{keys[nul]}”" if nul < len(keys) else f"{nul + 1}"
                    on_bad_row(
                        line,
                        values[nul].replace("\x00", ""),
                        f"column {where} holds a NUL character (a zero byte), which text cannot hold; "
                        "the row was skipped",
                    )
                    continue
                extra = [value for value in values[len(keys) :] if value.strip()]
                if extra:
                    on_bad_row(
                        line,
                        _shorten(delimiter.join(values)),
                        f"has {len(values)} values but the first line names {len(keys)} columns",
                    )
                    continue
                cells = {key: (values[i].strip() if i < len(values) else "") for i, key in enumerate(keys)}
                yield CsvRow(line=line, cells=cells)

    return keys, rows()


def numbered_records(
    lines: Iterable[str], *, delimiter: str, first_line: int
) -> Iterator[tuple[int, list[str] | None, str]]:
    """Each CSV record with the line of the file it starts on (a quoted value may run over several lines):
    (line, values, "") or, for a record the reader cannot read, (line, None, the reason in words)."""
    reader = csv.reader(lines, delimiter=delimiter)
    consumed = 0  # lines read before the record
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield first_line + consumed, None, _unreadable(error)
        else:
            yield first_line + consumed, values, ""
        consumed = reader.line_num


def _unreadable(error: csv.Error) -> str:
    if "field limit" in str(error):
        return f"the row cannot be read: a value is longer than {MAX_CELL_CHARS:,} characters"
    return f"the row cannot be read ({error})"


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- Row errors and progress -------------------------------------------------------------------------------------


@dataclass
class RowError:
    line: int
    value: str
    reason: str

    def __str__(self) -> str:
        shown = f" “{self.value}”" if self.value else ""
        return f"line {self.line}:{shown} {self.reason}"


@dataclass
class ImportReport:
    """What an import did. Only the first MAX_KEPT_ERRORS row errors are kept; error_count counts them all."""

    MAX_KEPT_ERRORS = 1000

    total_rows: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    coupons: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[RowError] = field(default_factory=list)

    def add_error(self, line: int, value: str, reason: str) -> RowError:
        error = RowError(line=line, value=_shorten(value), reason=reason)
        self.error_count += 1
        if len(self.errors) < self.MAX_KEPT_ERRORS:
            self.errors.append(error)
        return error

    def add_note(self, line: int, value: str, reason: str) -> RowError:
        note = RowError(line=line, value=_shorten(value), reason=reason)
        self.merged += 1
        if len(self.notes) < self.MAX_KEPT_ERRORS:
            self.notes.append(note)
        return note

    def as_dict(self) -> dict:
        return asdict(self)


def progress_bar(done: int, total: int, *, label: str, stream: IO[str] | None = None, width: int = 30) -> None:
    """Draw a one-line progress bar in the terminal (on stderr, so stdout stays clean for the report)."""
    stream = stream or sys.stderr
    fraction = done / total if total else 1.0
    filled = int(width * fraction)
    stream.write(f"\r{label} [{'#' * filled}{'-' * (width - filled)}] {done:,}/{total:,} rows ({fraction:.0%})")
    if done >= total:
        stream.write("\n")
    stream.flush()


# --- Importing a file in batches ---------------------------------------------------------------------------------

# Reports a row that is skipped: bad_row(line, value, reason).
BadRow = Callable[[int, str, str], None]
Row = TypeVar("Row")


def import_in_batches(
    *,
    path: Path,
    aliases: dict[str, str],
    check_columns: Callable[[list[str]], None],
    parse_row: Callable[[CsvRow, BadRow], Row | None],
    start: Callable[[ImportReport, BadRow], Callable[[list[Row]], None]],
    batch_size: int,
    total_rows: int | None = None,
    on_progress: Callable[[ImportReport], None] | None = None,
    on_row_error: Callable[[RowError], None] | None = None,
) -> ImportReport:
    """Read a CSV file row by row and import it batch by batch; returns the report.

    `check_columns` refuses an unusable header (ImportFileError: nothing imported). Then `start(report, bad_row)`
    prepares the import and returns the function that imports one batch (and counts its rows as processed).
    `parse_row` turns a row into what a batch takes, or reports it with `bad_row` and returns None. Progress is
    reported after every batch and at the end.
    """
    report = ImportReport(total_rows=count_rows(path) if total_rows is None else total_rows)

    def bad_row(line: int, value: str, reason: str) -> None:
        error = report.add_error(line, value, reason)
        report.processed += 1
        if on_row_error:
            on_row_error(error)

    check_columns(read_header(path, aliases=aliases))
    import_batch = start(report, bad_row)
    if on_progress:
        on_progress(report)  # the number of rows, before the first batch
    batches = _parsed_batches(path, aliases=aliases, parse_row=parse_row, batch_size=batch_size)
    with closing(_read_ahead(batches)) as ahead:
        for batch, skipped in ahead:
            for line, value, reason in skipped:
                bad_row(line, value, reason)
            if batch:
                import_batch(batch)
            if on_progress:
                on_progress(report)
    report.processed = max(report.processed, report.total_rows)
    if on_progress:
        on_progress(report)
    return report


def _parsed_batches(
    path: Path, *, aliases: dict[str, str], parse_row: Callable[[CsvRow, BadRow], Row | None], batch_size: int
) -> Iterator[tuple[list[Row], list[tuple[int, str, str]]]]:
    """The file's rows parsed, in batches, each with the rows skipped while reading it: (line, value, reason)."""
    skipped: list[tuple[int, str, str]] = []

    def skip(line: int, value: str, reason: str) -> None:
        skipped.append((line, value, reason))

    _, rows = read_rows(path, aliases=aliases, on_bad_row=skip)
    batch: list[Row] = []
    for csv_row in rows:
        parsed = parse_row(csv_row, skip)
        if parsed is not None:
            batch.append(parsed)
        if len(batch) >= batch_size:
            yield batch, skipped[:]
            batch = []
            skipped.clear()
    if batch or skipped:
        yield batch, skipped[:]


_END = object()


def _read_ahead(items: Iterator) -> Iterator:
    """`items`, made one ahead in another thread: the next batch is read and parsed (Python) while this one is
    stored (the database, which lets the other thread run). Order and contents are the same; an error of the
    reader is raised here; stopping early stops the reader."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not hand((item, None)):
                    return
            hand((_END, None))
        except BaseException as error:  # handed to the importer, which raises it
            hand((_END, error))
        finally:
            items.close()

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        reader.join()


# --- Background import jobs --------------------------------------------------------------------------------------

JOB_TTL_SECONDS = 7 * 24 * 3600


def _job_key(job_id: str) -> str:
    return f"import-job:{job_id}"


def import_dir() -> Path:
    path = Path(settings.IMPORT_FILES_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_job_create(*, kind: str, org_id: int, user_id: int | None, upload: IO[bytes], options: dict) -> str:
    """Save an uploaded file where the worker can read it and record a job waiting to run; returns its id."""
    job_id = secrets.token_urlsafe(12)
    path = import_dir() / f"{job_id}.csv"
    with open(path, "wb") as destination:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b""):
            destination.write(chunk)
    job = {
        "id": job_id,
        "kind": kind,
        "org_id": org_id,
        "user_id": user_id,
        "options": options,
        "file_name": getattr(upload, "name", ""),
        "status": "queued",
        "failure": "",
        "report": ImportReport().as_dict(),
    }
    cache.set(_job_key(job_id), job, JOB_TTL_SECONDS)
    return job_id


def import_job_get(job_id: str) -> dict | None:
    return cache.get(_job_key(job_id))


def import_job_save(job: dict) -> None:
    cache.set(_job_key(job["id"]), job, JOB_TTL_SECONDS)


def import_job_path(job_id: str) -> Path:
    return import_dir() / f"{job_id}.csv"


def import_job_skipped_path(job_id: str) -> Path:
    """Every row the job skipped, one JSON object a line as they were found (the job keeps only the first
    ImportReport.MAX_KEPT_ERRORS): the page's CSV download reads it."""
    return import_dir() / f"{job_id}.skipped.jsonl"


def import_job_skipped_rows(job: dict) -> list[RowError]:
    """Every row the job skipped so far, by line (rows a batch refused are found after later rows that could not be
    read, so the order found is not the file's)."""
    path = import_job_skipped_path(job["id"])
    if path.exists():
        with open(path, encoding="utf-8") as lines:
            rows = [RowError(**json.loads(line)) for line in lines if line.strip()]
    else:
        rows = [RowError(**error) for error in job["report"]["errors"]]
    return sorted(rows, key=lambda row: row.line)


def import_job_run(job_id: str, importer: Callable[..., ImportReport]) -> None:
    """Run a saved job once: progress and the final report go to the job; the file is deleted afterwards.

    Safe to run twice: a job that has finished is left alone, and importing a file again updates rather than
    duplicates.
    """
    job = import_job_get(job_id)
    if job is None or job["status"] in ("done", "failed"):
        return
    path = import_job_path(job_id)
    if not path.exists():
        job.update(status="failed", failure="The uploaded file is no longer there; upload it again.")
        import_job_save(job)
        return
    job["status"] = "running"
    import_job_save(job)

    def on_progress(report: ImportReport) -> None:
        job["report"] = report.as_dict()
        import_job_save(job)

    skipped_path = import_job_skipped_path(job_id)
    skipped = open(skipped_path, "w", encoding="utf-8")  # noqa: SIM115 (closed below, after the import)

    def on_row_error(error: RowError) -> None:
        skipped.write(json.dumps(asdict(error)) + "\n")
        skipped.flush()  # the page's download reads the rows skipped so far

    try:
        report = importer(
            path=path, org_id=job["org_id"], on_progress=on_progress, on_row_error=on_row_error, **job["options"]
        )
    except ImportFileError as error:
        job.update(status="failed", failure=str(error))
    except Exception:
        logger.exception("import %s stopped", job_id)
        job.update(
            status="failed",
            failure=f"The import stopped after {job['report']['processed']:,} rows because of an error on our side. "
            "Upload the file again: rows already imported will be updated, not duplicated.",
        )
    else:
        job.update(status="done", report=report.as_dict())
    finally:
        skipped.close()
    import_job_save(job)
    path.unlink(missing_ok=True)
