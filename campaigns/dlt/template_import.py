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

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.dlt import trai
from campaigns.dlt.portal_file import decode_file, read_template_file
from campaigns.dlt.template_rows import (
    NAME_MAX_LENGTH,
    OUTCOME_WORDS,
    Outcome,
    RowResult,
    TemplateRow,
    template_row_check,
)
from campaigns.dlt.template_services import template_save
from campaigns.models import Channel, Org, SenderId, Template, User
from delivery.models import Message

DEFAULT_NAME_LENGTH = 40


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
    checked: list[tuple[TemplateRow, list[RowResult]]] = []
    for line, cells in rows:
        row, results = template_row_check(org, line, cells, senders, has_header_column)
        if row is None:
            report.rows += results
        else:
            checked.append((row, results))  # reported after the row's templates, in the order of its headers
    stored = _Stored(org, {row.dlt_template_id for row, _ in checked})
    whitelist = trai.Whitelist.for_org(org)
    first_line: dict[tuple[str, int | None], TemplateRow] = {}
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
    org: Org, user: User | None, row: TemplateRow, sender: SenderId | None, stored: _Stored, *, several: bool
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
        result.outcome, result.reason = _update_outcome(template, row, sender, name, stored)
        if result.outcome != Outcome.UPDATED:
            return result
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


def _update_outcome(
    template: Template, row: TemplateRow, sender: SenderId | None, name: str, stored: _Stored
) -> tuple[Outcome, str]:
    """What re-importing a row does to its stored template: nothing, an update (and what changes), or a conflict
    when it would change the text or sender id of a template campaigns were sent with."""
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
        return Outcome.UNCHANGED, ""
    if template.pk in stored.sent and {"text", "sender id"} & set(changes):
        return Outcome.CONFLICT, (
            f"the {' and '.join(c for c in changes if c != 'name')} differ from template “{template.name}”, "
            f"which campaigns were sent with ({stored.campaign_names(template)}): changing it would no longer "
            "match what they sent. DLT gives a changed text a new template id; check the export, or create a "
            "new template for the new text"
        )
    return Outcome.UPDATED, f"changed: {', '.join(changes)}"
