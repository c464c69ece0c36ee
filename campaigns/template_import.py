"""Import DLT content templates from the template list a DLT portal exports (Jio TrueConnect, Vi Vilpower, Airtel,
BSNL, Smartping): the same checks as the Templates page, row by row, and re-importing updates instead of duplicating.

The portals name their columns differently ("Template ID", "Content Template ID", "TemplateId" ...); a column is
recognised by its name without case, spaces or punctuation. Columns the import does not use (entity id, dates,
variable counts ...) are ignored and listed in the report.

A template is keyed by (org, DLT template id, header): dispatch sends a template from its one sender id, so a row
that lists several headers becomes one template per header. A re-import finds each template by that key (a
template typed by hand with the same id and no sender id is adopted by the first header) and creates, updates or
leaves it unchanged. What a re-import never does: change the text or the sender id of a template that campaigns
were already sent with. Their messages were matched against that text and went out from that header, and the
report and a resend read them from the template; DLT never changes an approved template's text either (a new text
gets a new id), so such a row is reported as a conflict and the template kept. A new name is applied, as the
Templates page allows: it changes no message and no figure of a report.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns import trai
from campaigns.imports import ImportFileError
from campaigns.models import Channel, Org, SenderId, Template, User
from campaigns.template_services import template_errors, template_save
from delivery.models import Message

MAX_FILE_BYTES = 2 * 1024 * 1024  # a portal's export of a thousand templates is a few hundred kB
NAME_MAX_LENGTH = 200
DEFAULT_NAME_LENGTH = 40
HEADER_SEARCH_LINES = 10  # some exports put a title line or two above the column names

# Column names as the portals write them; matched without case, spaces or punctuation.
COLUMNS = {
    "template_id": (
        "Template ID",
        "TemplateId",
        "Content Template ID",
        "DLT Template ID",
        "DLT Content Template ID",
        "Template ID No",
    ),
    "content": ("Template Content", "Template Message", "Content", "Message", "Template Text", "Message Content"),
    "name": ("Template Name", "Name", "Content Template Name"),
    "header": ("Header", "Sender ID", "Headers", "Sender IDs", "Header Name", "Linked Headers"),
    "category": ("Template Type", "Category", "Content Type", "Template Category"),
    "status": ("Status", "Approval Status", "Template Status"),
}
COLUMN_WORDS = {
    "template_id": "template id",
    "content": "content",
    "name": "name",
    "header": "header",
    "category": "template type",
    "status": "status",
}
IMPORTED_STATUSES = {"approved", "active"}
# The portals' words and abbreviations for a template's type; the values are SenderId categories.
CATEGORIES = {
    "transactional": SenderId.Category.TRANSACTIONAL,
    "transaction": SenderId.Category.TRANSACTIONAL,
    "trans": SenderId.Category.TRANSACTIONAL,
    "txn": SenderId.Category.TRANSACTIONAL,
    "t": SenderId.Category.TRANSACTIONAL,
    "serviceimplicit": SenderId.Category.SERVICE_IMPLICIT,
    "serviceinferred": SenderId.Category.SERVICE_IMPLICIT,
    "implicit": SenderId.Category.SERVICE_IMPLICIT,
    "si": SenderId.Category.SERVICE_IMPLICIT,
    "serviceexplicit": SenderId.Category.SERVICE_EXPLICIT,
    "serviceconsent": SenderId.Category.SERVICE_EXPLICIT,
    "explicit": SenderId.Category.SERVICE_EXPLICIT,
    "se": SenderId.Category.SERVICE_EXPLICIT,
    "promotional": SenderId.Category.PROMOTIONAL,
    "promotion": SenderId.Category.PROMOTIONAL,
    "promo": SenderId.Category.PROMOTIONAL,
    "p": SenderId.Category.PROMOTIONAL,
}
_HEADER_SEPARATORS = re.compile(r"[,;|/\n]+")
# Since May 2025 operators show the header with a suffix (-P, -S, -T, -G); the registered header has none.
_HEADER_SUFFIX = re.compile(r"-[PSTG]$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_BINARY = "The file is not a CSV file (it holds binary data). Upload the template list the DLT portal exports as CSV."
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx (a zip) and the old .xls


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # not meant to be imported: not approved, or a repeat of an earlier line
    REFUSED = "refused"  # the row breaks a rule of the Templates page, or names what the org does not have
    CONFLICT = "conflict"  # valid, but would change a template in a way its campaigns forbid


OUTCOME_WORDS = {
    Outcome.CREATED: "created",
    Outcome.UPDATED: "updated",
    Outcome.UNCHANGED: "already up to date",
    Outcome.SKIPPED: "skipped",
    Outcome.REFUSED: "refused",
    Outcome.CONFLICT: "not changed (conflict)",
}


@dataclass
class RowResult:
    """What happened to one row (and header) of the file, in words."""

    line: int
    outcome: Outcome
    dlt_template_id: str = ""
    header: str = ""
    value: str = ""  # the cell at fault, or the template's name
    reason: str = ""
    template_pk: int | None = None
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = f"line {self.line}"
        what = " ".join(part for part in (self.dlt_template_id, self.header) if part)
        shown = f" “{_shorten(self.value)}”" if self.value else ""
        reason = f": {self.reason}" if self.reason else ""
        return f"{where}{f' ({what})' if what else ''}{shown} {OUTCOME_WORDS[self.outcome]}{reason}"


@dataclass
class TemplateImportReport:
    org: Org
    dry_run: bool = False
    columns: dict[str, str] = field(default_factory=dict)  # our column -> the file's name for it
    ignored_columns: list[str] = field(default_factory=list)
    lines_above_header: int = 0
    rows: list[RowResult] = field(default_factory=list)

    def of(self, outcome: Outcome) -> list[RowResult]:
        return [row for row in self.rows if row.outcome == outcome]

    def counts(self) -> dict[Outcome, int]:
        return {outcome: len(self.of(outcome)) for outcome in Outcome}

    def summary(self) -> str:
        counts = self.counts()
        words = ", ".join(f"{counts[outcome]:,} {OUTCOME_WORDS[outcome]}" for outcome in Outcome)
        prefix = "Checked only, nothing saved: " if self.dry_run else ""
        return f"{prefix}{self.org.name}: {words}."


@dataclass
class _Row:
    line: int
    dlt_template_id: str
    body: str
    name: str  # as given in the file; empty: keep the stored name, or take the first words of the text
    senders: list[SenderId | None]
    warnings: list[str]
    headers_listed: int  # several: each template's name ends with its header, to tell them apart


# --- Reading the file --------------------------------------------------------------------------------------------


def column_key(name: str) -> str:
    """A column name without case, spaces or punctuation: "Content Template ID" -> "contenttemplateid"."""
    return re.sub(r"[^0-9a-z]+", "", name.lower())


_COLUMN_BY_KEY = {column_key(name): column for column, names in COLUMNS.items() for name in names}


def decode_file(data: bytes) -> str:
    """The text of an upload: UTF-8 with or without a byte-order mark, or UTF-16 (Excel's "Unicode text")."""
    if not data.strip():
        raise ImportFileError("The file is empty: export the template list from the DLT portal and upload it.")
    if data.startswith(_WORKBOOK_MAGIC):
        raise ImportFileError(
            "This is an Excel workbook, not a CSV file. Open it in Excel, choose Save As → “CSV UTF-8 (comma "
            "delimited)” (or “Unicode Text”) and upload that file."
        )
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        elif data[1:2] == b"\x00" and data[3:4] == b"\x00":  # UTF-16 little-endian without a byte-order mark
            text = data.decode("utf-16-le")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if b"\x00" in data[:1024]:
            raise ImportFileError(_BINARY) from None
        raise ImportFileError(
            "The file is not text that can be read (UTF-8 or UTF-16). In Excel choose Save As → “CSV UTF-8 (comma "
            "delimited)” and upload again."
        ) from None
    if "\x00" in text:
        raise ImportFileError(_BINARY)
    return text


def _delimited(line: str) -> list[list[str]]:
    """A line read with each delimiter the portals and Excel use."""
    return [next(csv.reader([line], delimiter=delimiter), []) for delimiter in (",", "\t", ";")]


def _header_columns(cells: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for position, cell in enumerate(cells):
        column = _COLUMN_BY_KEY.get(column_key(cell))
        if column and column not in columns:
            columns[column] = position
    return columns


def read_template_file(text: str, report: TemplateImportReport) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, cells by our column names) for each non-blank row; fills in the report's columns.

    Raises ImportFileError when no line names a content and a template id column.
    """
    lines = re.split(r"(?<=\n)", text.replace("\r\n", "\n").replace("\r", "\n"))
    best: tuple[int, str, list[str], dict[str, int]] | None = None
    for index, line in enumerate(lines[:HEADER_SEARCH_LINES]):
        for delimiter, cells in zip((",", "\t", ";"), _delimited(line.rstrip("\n")), strict=True):
            columns = _header_columns(cells)
            if best is None or len(columns) > len(best[3]):
                best = (index, delimiter, cells, columns)
        if best and {"content", "template_id"} <= set(best[3]):
            break
    index, delimiter, cells, columns = best or (0, ",", [], {})
    _check_columns(cells, columns, first_line=lines[0].strip())
    _check_repeated_columns(cells)
    report.columns = {column: cells[position].strip() for column, position in columns.items()}
    report.ignored_columns = [
        cell.strip() for position, cell in enumerate(cells) if cell.strip() and position not in columns.values()
    ]
    report.lines_above_header = index
    return _rows("".join(lines[index + 1 :]), delimiter, columns, first_line=index + 2)


def _check_columns(cells: list[str], columns: dict[str, int], *, first_line: str) -> None:
    missing = [column for column in ("content", "template_id") if column not in columns]
    if not missing:
        return
    needed = "; ".join(
        f"the {COLUMN_WORDS[column]} ({', '.join(COLUMNS[column][:4])})" for column in ("template_id", "content")
    )
    found = ", ".join(f"“{cell.strip()}”" for cell in cells if cell.strip()) or "none"
    hint = ""
    if re.search(r"\d{19}", first_line):
        hint = " The first line looks like a template, not column names: export the list again with its header line."
    elif not columns:
        hint = " Is this the template list exported from the DLT portal?"
    words = " and ".join(COLUMN_WORDS[column] for column in missing)
    raise ImportFileError(
        f"The file has no {words} column. The first line must name the columns, including {needed}. "
        f"Columns found: {found}.{hint}"
    )


def _check_repeated_columns(cells: list[str]) -> None:
    seen: dict[str, str] = {}
    for cell in cells:
        column = _COLUMN_BY_KEY.get(column_key(cell))
        if column is None:
            continue
        if column in seen:
            raise ImportFileError(
                f"Two columns give the {COLUMN_WORDS[column]}: “{seen[column]}” and “{cell.strip()}”. "
                "Remove one and upload again."
            )
        seen[column] = cell.strip()


def _rows(
    text: str, delimiter: str, columns: dict[str, int], *, first_line: int
) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield first_line + previous_end, {"_error": f"the row cannot be read ({error})"}
            previous_end = reader.line_num
            continue
        line = first_line + previous_end
        previous_end = reader.line_num
        if any(value.strip() for value in values):
            yield (
                line,
                {column: (values[position] if position < len(values) else "") for column, position in columns.items()},
            )


# --- Checking a row ----------------------------------------------------------------------------------------------


def _template_id(cell: str) -> tuple[str, str | None]:
    """The id as the portal shows it, undoing what spreadsheets do to long numbers; or the reason it is not one."""
    text = cell.strip()
    wrapped = re.fullmatch(r'=?"(.*)"', text)  # ="1707..." keeps the digits in Excel
    text = (wrapped.group(1) if wrapped else text).lstrip("'").strip()
    text = re.sub(r"^(\d+)\.0+$", r"\1", text)
    if not text:
        return "", "has no DLT template id"
    if _SCIENTIFIC.match(text):
        return text, (
            "was turned into scientific notation by a spreadsheet and its last digits are lost; export the list "
            "again and open it with the column formatted as text"
        )
    if not text.isdigit():
        return text, "is not a DLT template id: it is 19 digits, as on the DLT portal"
    if len(text) != 19:
        return text, f"is {len(text)} digits; a DLT template id is 19 digits, as on the DLT portal"
    return text, None


def _headers(cell: str) -> list[str]:
    headers: list[str] = []
    for part in _HEADER_SEPARATORS.split(cell.upper()):
        header = _HEADER_SUFFIX.sub("", part.strip())
        if header and header not in headers:
            headers.append(header)
    return headers


def _sender_problem(sender: SenderId, category: str) -> str | None:
    """DLT links promotional templates to numeric promotional headers, the others to letter headers."""
    promotional_template = category == SenderId.Category.PROMOTIONAL
    if category == SenderId.Category.SERVICE_EXPLICIT or promotional_template == sender.is_promotional:
        return None
    words = SenderId.Category(category).label
    return (
        f"is a {words} template but header {sender.header} is registered as {sender.get_category_display()}; "
        f"{'promotional templates go out from a promotional (numeric) header' if promotional_template else 'only promotional templates go out from a promotional header'}"
    )


def _check_row(
    org: Org, line: int, cells: dict[str, str], senders: dict[str, SenderId], has_header_column: bool
) -> tuple[_Row | None, list[RowResult]]:
    """The row to import (None when there is nothing to import) and what to report about it.

    A problem with the id, the text, the type or the name refuses the whole row; a header the org does not have
    (or of the wrong kind) refuses that header only, and the row's other headers are imported.
    """
    if "_error" in cells:
        return None, [RowResult(line=line, outcome=Outcome.REFUSED, reason=cells["_error"])]
    dlt_template_id, id_problem = _template_id(cells["template_id"])
    header_cell = cells.get("header", "").strip()

    def refused(header: str, value: str, reason: str) -> RowResult:
        return RowResult(
            line=line,
            outcome=Outcome.REFUSED,
            dlt_template_id=dlt_template_id,
            header=header,
            value=value,
            reason=reason,
        )

    if "status" in cells:
        status = cells["status"].strip()
        if column_key(status) not in IMPORTED_STATUSES:
            reason = f"its status is “{status}”" if status else "it has no status"
            skipped = refused(header_cell, status, f"{reason}; only approved (active) templates are imported")
            skipped.outcome = Outcome.SKIPPED
            return None, [skipped]
    problems: list[tuple[str, str]] = []
    if id_problem:
        problems.append((dlt_template_id, f"template id {id_problem}"))
    body = cells["content"].replace("\r\n", "\n").strip()  # the Templates page keeps the text between its ends
    if not body:
        problems.append(("", "has no template content"))
    else:
        errors = template_errors(org=org, channel=Channel.SMS, subject="", body=body, html_body="")
        problems += [(body, f"content: {message[0].lower()}{message[1:]}") for message in errors.get("body", [])]
    category = ""
    category_cell = cells.get("category", "").strip()
    if category_cell:
        category = CATEGORIES.get(column_key(category_cell), "")
        if not category:
            problems.append(
                (
                    category_cell,
                    "template type is not one the DLT portals use (Transactional, Service Implicit, Service "
                    "Explicit, Promotional)",
                )
            )
    name = " ".join(cells.get("name", "").split())
    if len(name) > NAME_MAX_LENGTH:
        problems.append((name, f"name is {len(name)} characters; at most {NAME_MAX_LENGTH}"))
    if problems:
        return None, [refused(header_cell, problems[0][0], "; ".join(reason for _, reason in problems))]

    results: list[RowResult] = []
    row_senders: list[SenderId | None] = []
    for header in _headers(header_cell):
        sender = senders.get(header)
        if sender is None:
            known = ", ".join(sorted(senders)) or "none yet"
            reason = f"header {header} is not one of {org.name}'s sender ids ({known}); support registers them"
            results.append(refused(header, header, reason))
        elif category and (problem := _sender_problem(sender, category)):
            results.append(refused(header, category_cell, problem))
        else:
            row_senders.append(sender)
    warnings = []
    if not header_cell:
        row_senders = [None]
        warnings.append(
            "no header: choose the template's sender id before a campaign uses it"
            if has_header_column
            else "the file has no header column: choose the template's sender id before a campaign uses it"
        )
    if not row_senders:
        return None, results
    row = _Row(
        line=line,
        dlt_template_id=dlt_template_id,
        body=body,
        name=name,
        senders=row_senders,
        warnings=warnings,
        headers_listed=len(_headers(header_cell)),
    )
    return row, results


def default_name(body: str) -> str:
    """The first words of a template's text, as a name: "Dear {#var#}, your order {#var#} has…"."""
    words = body.split()
    name = ""
    for word in words:
        if len(name) + len(word) + 1 > DEFAULT_NAME_LENGTH and name:
            return name + "…"
        name = f"{name} {word}".strip()
    return name[:NAME_MAX_LENGTH]


# --- Importing ---------------------------------------------------------------------------------------------------


def import_templates(*, org: Org, data: bytes, user: User | None = None, dry_run: bool = False) -> TemplateImportReport:
    """Import the templates of a DLT portal's export (bytes of a CSV file) into `org`; returns the report.

    Raises ImportFileError, with nothing imported, when the file cannot be read at all. The whole file is one
    transaction, and two imports into one org wait for each other, so neither makes a template twice.
    """
    report = TemplateImportReport(org=org, dry_run=dry_run)
    rows = read_template_file(decode_file(data), report)
    with transaction.atomic():
        Org.objects.select_for_update().filter(pk=org.pk).first()
        _import_rows(org, user, rows, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _import_rows(
    org: Org, user: User | None, rows: Iterator[tuple[int, dict[str, str]]], report: TemplateImportReport
) -> None:
    senders = {sender.header.upper(): sender for sender in SenderId.objects.filter(org=org)}
    has_header_column = "header" in report.columns
    checked: list[tuple[_Row, list[RowResult]]] = []
    for line, cells in rows:
        row, results = _check_row(org, line, cells, senders, has_header_column)
        if row is None:
            report.rows += results
        else:
            checked.append((row, results))  # reported after the row's templates, in the order of its headers
    stored = _Stored(org, {row.dlt_template_id for row, _ in checked})
    whitelist = trai.Whitelist.for_org(org)
    first_line: dict[tuple[str, int | None], _Row] = {}
    for row, header_results in checked:
        for sender in row.senders:
            key = (row.dlt_template_id, sender.pk if sender else None)
            header = sender.header if sender else ""
            if key in first_line:
                earlier = first_line[key]
                same = earlier.body == row.body and earlier.name == row.name
                report.rows.append(
                    RowResult(
                        line=row.line,
                        outcome=Outcome.SKIPPED if same else Outcome.REFUSED,
                        dlt_template_id=row.dlt_template_id,
                        header=header,
                        reason=f"repeats line {earlier.line}"
                        if same
                        else f"line {earlier.line} has the same template id and header with another text or name; "
                        "a template is imported once",
                    )
                )
                continue
            first_line[key] = row
            result = _import_one(org, user, row, sender, stored, several=row.headers_listed > 1)
            if result.outcome in (Outcome.CREATED, Outcome.UPDATED):
                result.warnings += [
                    str(finding) for finding in trai.template_findings(org=org, body=row.body, whitelist=whitelist)
                ]
            result.warnings = row.warnings + result.warnings
            report.rows.append(result)
        report.rows += header_results
    report.rows.sort(key=lambda result: result.line)  # stable: a row's results stay in the order of its headers


class _Stored:
    """The org's SMS templates with the file's ids, by (id, sender), and which of them campaigns were sent with."""

    def __init__(self, org: Org, ids: set[str]):
        self.by_key: dict[tuple[str, int | None], list[Template]] = {}
        templates = Template.objects.filter(org=org, channel=Channel.SMS, dlt_template_id__in=ids).order_by("pk")
        for template in templates.select_related("sender"):
            self.by_key.setdefault((template.dlt_template_id, template.sender_id), []).append(template)
        # Sent: a campaign of the template has messages (its report); drafts and scheduled campaigns have none.
        self.sent = set(
            Message.objects.filter(campaign__template__in=templates).values_list("campaign__template_id", flat=True)
        )

    def find(self, dlt_template_id: str, sender: SenderId | None) -> list[Template]:
        found = self.by_key.get((dlt_template_id, sender.pk if sender else None), [])
        if found or sender is None:
            return found
        # A template typed by hand with this id and no sender id is the first header's.
        without_sender = self.by_key.get((dlt_template_id, None), [])
        if len(without_sender) == 1:
            self.by_key.pop((dlt_template_id, None))
            return without_sender
        return []

    def campaign_names(self, template: Template) -> str:
        names = list(template.campaigns.order_by("name").values_list("name", flat=True).distinct()[:3])
        return ", ".join(f"“{name}”" for name in names)


def _import_one(
    org: Org, user: User | None, row: _Row, sender: SenderId | None, stored: _Stored, *, several: bool
) -> RowResult:
    header = sender.header if sender else ""
    result = RowResult(line=row.line, outcome=Outcome.CREATED, dlt_template_id=row.dlt_template_id, header=header)
    found = stored.find(row.dlt_template_id, sender)
    if len(found) > 1:
        names = ", ".join(f"“{template.name}”" for template in found[:3])
        result.outcome = Outcome.REFUSED
        result.reason = (
            f"{len(found)} templates of {org.name} already have this template id and header ({names}); delete or "
            "change the extra ones on the Templates page, then import again"
        )
        return result
    template = found[0] if found else None
    name = row.name or (template.name if template else default_name(row.body))
    if several and (row.name or template is None):
        name = f"{name[: NAME_MAX_LENGTH - 9]} ({header})"
    result.value = name
    if template is not None:
        result.template_pk = template.pk
        changes = [
            words
            for words, changed in (
                ("text", template.body != row.body),
                ("sender id", template.sender_id != (sender.pk if sender else None)),
                ("name", template.name != name),
            )
            if changed
        ]
        if not changes:
            result.outcome = Outcome.UNCHANGED
            return result
        if template.pk in stored.sent and {"text", "sender id"} & set(changes):
            result.outcome = Outcome.CONFLICT
            result.reason = (
                f"the {' and '.join(c for c in changes if c != 'name')} differ from template “{template.name}”, "
                f"which campaigns were sent with ({stored.campaign_names(template)}): changing it would no longer "
                "match what they sent. DLT gives a changed text a new template id; check the export, or create a "
                "new template for the new text"
            )
            return result
        result.outcome, result.reason = Outcome.UPDATED, f"changed: {', '.join(changes)}"
    try:
        saved = template_save(
            org=org,
            user=user,
            template=template,
            name=name,
            channel=Channel.SMS,
            sender=sender,
            dlt_template_id=row.dlt_template_id,
            subject="",
            body=row.body,
            html_body="",
        )
    except ValidationError as error:
        result.outcome = Outcome.CONFLICT if template is not None else Outcome.REFUSED
        result.reason = " ".join(message.rstrip(".") + "." for message in error.messages).rstrip(".")
        return result
    result.template_pk = saved.pk
    return result


def _shorten(value: str, limit: int = 80) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
