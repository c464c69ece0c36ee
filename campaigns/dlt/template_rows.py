"""One row of a DLT portal's template list checked as the Templates page checks a template: its id, text, type,
name and headers, and what became of it, in words (campaigns.dlt.template_import imports the rows)."""

import re
from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.dlt.portal_file import column_key
from campaigns.dlt.template_services import template_errors
from campaigns.models import Channel, Org, SenderId

NAME_MAX_LENGTH = 200


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
class TemplateRow:
    line: int
    dlt_template_id: str
    body: str
    name: str  # as given in the file; empty: keep the stored name, or take the first words of the text
    senders: list[SenderId | None]
    warnings: list[str]
    headers_listed: int  # several: each template's name ends with its header, to tell them apart


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


def template_row_check(
    org: Org, line: int, cells: dict[str, str], senders: dict[str, SenderId], has_header_column: bool
) -> tuple[TemplateRow | None, list[RowResult]]:
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
    body = cells["content"].replace("\r\n", "\n").strip()  # the Templates page keeps the text between its ends
    category_cell = cells.get("category", "").strip()
    category = CATEGORIES.get(column_key(category_cell), "") if category_cell else ""
    name = " ".join(cells.get("name", "").split())
    problems = _row_problems(org, dlt_template_id, id_problem, body, category_cell, category, name)
    if problems:
        return None, [refused(header_cell, problems[0][0], "; ".join(reason for _, reason in problems))]

    row_senders, results = _row_senders(org, header_cell, senders, category, category_cell, refused)
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
    headers_listed = len(_headers(header_cell))
    row = TemplateRow(line, dlt_template_id, body, name, row_senders, warnings, headers_listed=headers_listed)
    return row, results


def _row_senders(
    org: Org, header_cell: str, senders: dict[str, SenderId], category: str, category_cell: str, refused
) -> tuple[list[SenderId | None], list[RowResult]]:
    """The sender ids of the row's headers that can send it, and a refusal for each header that cannot."""
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
    return row_senders, results


def _row_problems(
    org: Org, dlt_template_id: str, id_problem: str | None, body: str, category_cell: str, category: str, name: str
) -> list[tuple[str, str]]:
    """What refuses a whole row, as (the value at fault, why) pairs: its id, text, type or name."""
    problems: list[tuple[str, str]] = []
    if id_problem:
        problems.append((dlt_template_id, f"template id {id_problem}"))
    if not body:
        problems.append(("", "has no template content"))
    else:
        errors = template_errors(org=org, channel=Channel.SMS, subject="", body=body, html_body="")
        problems += [(body, f"content: {message[0].lower()}{message[1:]}") for message in errors.get("body", [])]
    if category_cell and not category:
        problems.append(
            (
                category_cell,
                "template type is not one the DLT portals use (Transactional, Service Implicit, Service "
                "Explicit, Promotional)",
            )
        )
    if len(name) > NAME_MAX_LENGTH:
        problems.append((name, f"name is {len(name)} characters; at most {NAME_MAX_LENGTH}"))
    return problems


def _shorten(value: str, limit: int = 80) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
