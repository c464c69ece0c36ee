"""Import DLT content templates from the template list a DLT portal exports (Jio TrueConnect, Vi Vilpower, Airtel,
BSNL, Smartping; read by campaigns.dlt.portal_file): the same checks as the Templates page, row by row, and
re-importing updates instead of duplicating.

A template is keyed by (org, DLT template id, header): dispatch sends a template from its one sender id, so a row
that lists several headers becomes one template per header. A re-import finds each template by that key (a
template typed by hand with the same id and no sender id is adopted by the first header) and creates, updates or
leaves it unchanged. What a re-import never does: change the text or the sender id of a template that campaigns
were already sent with. Their messages were matched against that text and went out from that header, and the
report and a resend read them from the template; DLT never changes an approved template's text either (a new text
gets a new id), so such a row is reported as a conflict and the template kept. A new name is applied, as the
Templates page allows: it changes no message and no figure of a report.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.dlt import trai
from campaigns.dlt.portal_file import column_key, decode_file, read_template_file
from campaigns.dlt.template_services import template_errors, template_save
from campaigns.models import Channel, Org, SenderId, Template, User
from delivery.models import Message

NAME_MAX_LENGTH = 200
DEFAULT_NAME_LENGTH = 40
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
    file = read_template_file(decode_file(data))
    report.columns, report.ignored_columns = file.columns, file.ignored_columns
    report.lines_above_header = file.lines_above_header
    rows = file.rows
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
