"""The template list a DLT portal exports (Jio TrueConnect, Vi Vilpower, Airtel, BSNL, Smartping), read as text:
UTF-8 or UTF-16, comma, tab or semicolon separated, a title line or two above the column names allowed.

The portals name their columns differently ("Template ID", "Content Template ID", "TemplateId" ...); a column is
recognised by its name without case, spaces or punctuation. Columns the import does not use (entity id, dates,
variable counts ...) are listed as ignored.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from campaigns.base.csv_imports import MAX_CELL_CHARS, ImportFileError, numbered_records

MAX_FILE_BYTES = 2 * 1024 * 1024  # a portal's export of a thousand templates is a few hundred kB
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
_BINARY = "The file is not a CSV file (it holds binary data). Upload the template list the DLT portal exports as CSV."
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx (a zip) and the old .xls


@dataclass
class TemplateFile:
    columns: dict[str, str]  # our column -> the file's name for it
    ignored_columns: list[str]
    lines_above_header: int
    rows: Iterator[tuple[int, dict[str, str]]]  # (line number, cells by our column names), non-blank rows


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


def _delimited(line: str) -> list[list[str]] | None:
    """A line read with each delimiter the portals and Excel use; None when a value in it is longer than the CSV
    reader takes (MAX_CELL_CHARS): such a line names no columns."""
    try:
        return [next(csv.reader([line], delimiter=delimiter), []) for delimiter in (",", "\t", ";")]
    except csv.Error:
        return None


def _header_columns(cells: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for position, cell in enumerate(cells):
        column = _COLUMN_BY_KEY.get(column_key(cell))
        if column and column not in columns:
            columns[column] = position
    return columns


def read_template_file(text: str) -> TemplateFile:
    """The file's columns and its rows; raises ImportFileError when no line names a content and a template id
    column."""
    lines = re.split(r"(?<=\n)", text.replace("\r\n", "\n").replace("\r", "\n"))
    best: tuple[int, str, list[str], dict[str, int]] | None = None
    unreadable: list[int] = []  # lines (counted from 1) with a value too long to read
    for index, line in enumerate(lines[:HEADER_SEARCH_LINES]):
        readings = _delimited(line.rstrip("\n"))
        if readings is None:
            unreadable.append(index + 1)
            continue
        for delimiter, cells in zip((",", "\t", ";"), readings, strict=True):
            columns = _header_columns(cells)
            if best is None or len(columns) > len(best[3]):
                best = (index, delimiter, cells, columns)
        if best and {"content", "template_id"} <= set(best[3]):
            break
    index, delimiter, cells, columns = best or (0, ",", [], {})
    _check_columns(cells, columns, first_line=lines[0].strip(), unreadable=unreadable)
    _check_repeated_columns(cells)
    return TemplateFile(
        columns={column: cells[position].strip() for column, position in columns.items()},
        ignored_columns=[
            cell.strip() for position, cell in enumerate(cells) if cell.strip() and position not in columns.values()
        ],
        lines_above_header=index,
        rows=_rows("".join(lines[index + 1 :]), delimiter, columns, first_line=index + 2),
    )


def _check_columns(cells: list[str], columns: dict[str, int], *, first_line: str, unreadable: list[int]) -> None:
    missing = [column for column in ("content", "template_id") if column not in columns]
    if not missing:
        return
    needed = "; ".join(
        f"the {COLUMN_WORDS[column]} ({', '.join(COLUMNS[column][:4])})" for column in ("template_id", "content")
    )
    found = ", ".join(f"“{cell.strip()}”" for cell in cells if cell.strip()) or "none"
    hint = ""
    if unreadable:
        which = (
            f"Line {unreadable[0]} holds" if len(unreadable) == 1 else f"Lines {', '.join(map(str, unreadable))} hold"
        )
        hint = (
            f" {which} a value longer than {MAX_CELL_CHARS:,} characters, which no template list has: is this the "
            "template list exported from the DLT portal?"
        )
    elif re.search(r"\d{19}", first_line):
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
    for line, values, problem in numbered_records(
        io.StringIO(text, newline=""), delimiter=delimiter, first_line=first_line
    ):
        if values is None:
            yield line, {"_error": problem}
        elif any(value.strip() for value in values):
            yield (
                line,
                {column: (values[position] if position < len(values) else "") for column, position in columns.items()},
            )
