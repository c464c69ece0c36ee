"""An org's NDNC (NCPR / DND) register: import the numbers and the promotional categories each one refuses.

CSV columns: mobile, and optionally categories ("1,3", "0" or "all"). A number with no categories given is
fully blocked: it is on the register, and sending a promotional message it may refuse risks a penalty.
Importing a number again replaces its categories with the new ones (the register's latest word).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from campaigns.base.csv_imports import (
    BadRow,
    CsvRow,
    ImportFileError,
    ImportReport,
    RowError,
    check_import_file,
    import_in_batches,
)
from campaigns.base.phone_numbers import MobileError, normalise_mobile
from campaigns.models import NdncEntry, Org

BATCH_SIZE = 2000
FULLY_BLOCKED = [0]
NCPR_CATEGORIES = range(0, 9)
HEADER_ALIASES = {
    "phone": "mobile",
    "mobile_number": "mobile",
    "phone_number": "mobile",
    "msisdn": "mobile",
    "number": "mobile",
    "category": "categories",
    "blocked_categories": "categories",
    "preferences": "categories",
    "preference": "categories",
}
_FULL_WORDS = {"all", "full", "fully blocked", "fully_blocked", "blocked", "dnd"}


class CategoryError(ValueError):
    pass


def parse_categories(text: str) -> list[int]:
    """ "1,3" -> [1, 3]; "0", "all" or "" -> [0] (fully blocked). Raises CategoryError with a reason in words."""
    text = text.strip().lower()
    if not text or text in _FULL_WORDS:
        return list(FULLY_BLOCKED)
    categories = set()
    for part in re.split(r"[\s,;|/]+", text):
        if not part:
            continue
        if not part.isdigit() or int(part) not in NCPR_CATEGORIES:
            raise CategoryError(f"“{part}” is not an NCPR category (0 for fully blocked, or 1 to 8)")
        categories.add(int(part))
    if 0 in categories:
        return list(FULLY_BLOCKED)
    return sorted(categories)


def is_blocked(*, blocked_categories: list[int], category: int) -> bool:
    """Whether a number with these blocked categories refuses a promotional message of `category`.

    0 in the list blocks everything; an empty list (a number on the register with no preference recorded)
    is treated as fully blocked too; otherwise only the listed categories are refused.
    """
    if not blocked_categories or 0 in blocked_categories:
        return True
    return category in blocked_categories


@dataclass
class _Entry:
    line: int
    mobile: str
    categories: list[int]


def import_ndnc(
    *,
    path: Path,
    org_id: int,
    batch_size: int = BATCH_SIZE,
    total_rows: int | None = None,
    on_progress: Callable[[ImportReport], None] | None = None,
    on_row_error: Callable[[RowError], None] | None = None,
) -> ImportReport:
    """Create or update the org's NDNC entries from a CSV file, batch by batch (each batch commits)."""
    org = Org.objects.get(pk=org_id)
    return import_in_batches(
        path=path,
        aliases=HEADER_ALIASES,
        check_columns=_check_columns,
        parse_row=_parse,
        start=lambda report, bad_row: lambda batch: _import_batch(org, batch, report),
        batch_size=batch_size,
        total_rows=total_rows,
        on_progress=on_progress,
        on_row_error=on_row_error,
    )


def check_ndnc_file(path: Path) -> None:
    check_import_file(path, aliases=HEADER_ALIASES, check_columns=_check_columns)


def _check_columns(columns: list[str]) -> None:
    if "mobile" not in columns:
        raise ImportFileError(
            "The file needs a “mobile” column (and optionally “categories”, such as 1,3 or 0 for fully "
            f"blocked). Columns found: {', '.join(columns) or 'none'}."
        )


def _parse(csv_row: CsvRow, bad_row: BadRow) -> _Entry | None:
    raw_mobile = csv_row.cells.get("mobile", "")
    if not raw_mobile:
        bad_row(csv_row.line, "", "has no mobile number")
        return None
    try:
        mobile = normalise_mobile(raw_mobile)
    except MobileError as error:
        bad_row(csv_row.line, raw_mobile, f"mobile number {error}")
        return None
    raw_categories = csv_row.cells.get("categories", "")
    try:
        categories = parse_categories(raw_categories)
    except CategoryError as error:
        bad_row(csv_row.line, raw_categories, str(error))
        return None
    return _Entry(line=csv_row.line, mobile=mobile, categories=categories)


@transaction.atomic
def _import_batch(org: Org, entries: list[_Entry], report: ImportReport) -> None:
    merged: dict[str, _Entry] = {}
    for entry in entries:
        earlier = merged.get(entry.mobile)
        if earlier is None:
            merged[entry.mobile] = entry
            continue
        # The same number twice: it refuses what either line says it refuses.
        union = set(earlier.categories) | set(entry.categories)
        earlier.categories = list(FULLY_BLOCKED) if 0 in union else sorted(union)
        report.add_note(entry.line, entry.mobile, f"same number as line {earlier.line}; categories combined")
    existing = {e.mobile: e for e in NdncEntry.objects.filter(org=org, mobile__in=list(merged))}
    new, changed = [], []
    for mobile, entry in merged.items():
        stored = existing.get(mobile)
        if stored is None:
            new.append(NdncEntry(org=org, mobile=mobile, blocked_categories=entry.categories))
        elif stored.blocked_categories != entry.categories:
            stored.blocked_categories = entry.categories
            changed.append(stored)
    NdncEntry.objects.bulk_create(new, ignore_conflicts=True)
    if changed:
        NdncEntry.objects.bulk_update(changed, ["blocked_categories"])
    report.created += len(new)
    report.updated += len(merged) - len(new)
    report.processed += len(entries)
