"""CSV downloads: streamed row by row, and safe to open in a spreadsheet.

A cell that starts with =, +, -, @ or a tab is read by Excel, LibreOffice and Google Sheets as a formula, and a
customer name imported from someone else's file can carry one ("=HYPERLINK(...)"). Such a cell is written with a
leading apostrophe, which spreadsheets show as text (OWASP's advice on CSV injection). Numbers and phone numbers
("+919812345678", "-5") are left as they are: they are values, not formulas.

The file's name is built by each view from known values; what reaches the header is still only letters, digits,
dots, dashes and underscores, so no name can add a parameter to Content-Disposition or break the header.
"""

import csv
import re
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9][0-9 ().-]*")
_NOT_IN_A_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class _Echo:
    """A file that hands back what is written to it, so csv.writer yields lines for a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_download(header: Sequence[str], rows: Iterable[Sequence], *, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([spreadsheet_safe(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_NOT_IN_A_FILE_NAME.sub("-", filename)}"'
    return response
