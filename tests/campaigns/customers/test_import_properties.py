"""Property tests of the CSV imports: whatever a customer file or an NDNC register holds (any column names, cells
with quotes, line breaks, NUL bytes and any script, bytes that are not UTF-8), importing it refuses the file in
words (ImportFileError) or imports it, each row imported or reported by line with its reason; never another
exception."""

import itertools

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.base.csv_imports import ImportFileError
from campaigns.customers.customer_import import import_customers
from campaigns.customers.ndnc import import_ndnc

COLUMNS = ["mobile", "email", "name", "external_id", "coupon_code", "coupon_expiry", "city", "categories", "Phone"]
CELL_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
CELLS = st.one_of(
    CELL_TEXT,
    st.sampled_from(["9876543210", "+91 98765 43210", "09123456789", "12345", "asha@example.com", "2026-12-31",
                     "31/02/2026", "1,3", "0", "all", '"', '""', "\x00", "\r\n", "=HYPERLINK(1)", "9.87654E+09"]),
)  # fmt: skip
DELIMITERS = st.sampled_from([",", ";", "\t"])
ROWS = st.lists(st.lists(CELLS, max_size=7), max_size=6)
HEADERS = st.lists(st.one_of(st.sampled_from(COLUMNS), CELL_TEXT), min_size=0, max_size=7)
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r"])
DB = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_files = itertools.count()


def _csv(header: list[str], rows: list[list[str]], delimiter: str, end: str, quote: bool) -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if quote else value

    return "".join(delimiter.join(cell(value) for value in line) + end for line in [header, *rows])


FILES = st.one_of(
    st.builds(_csv, HEADERS, ROWS, DELIMITERS, LINE_ENDS, st.booleans()).map(lambda text: text.encode()),
    st.builds(
        lambda text, extra: text.encode() + extra,
        st.builds(_csv, HEADERS, ROWS, DELIMITERS, LINE_ENDS, st.booleans()),
        st.binary(max_size=20),
    ),
    st.binary(max_size=200),
)


def _write(tmp_path, data: bytes):
    path = tmp_path / f"import-{next(_files)}.csv"
    path.write_bytes(data)
    return path


def _check(report) -> None:
    assert report.error_count == len(report.errors)
    for error in report.errors:
        assert error.line >= 2 and error.reason


@DB
@given(data=FILES)
@example(data=b"mobile,name,city\n9876543210,Asha,Pune\n9123456789,Ra\x00vi,Goa\n")
@example(data=b"mobile" + b",c" * 6000 + b"\n9876543210\n")
@example(data=b'mobile,name\n9876543210,"Asha\n')
@example(data=b"mobile,name\n9876543210,Jos\xe9\n")
def test_a_customer_file_of_anything_is_imported_row_by_row_or_refused_in_words(tmp_path, org, data):
    try:
        report = import_customers(path=_write(tmp_path, data), org_id=org.pk)
    except ImportFileError as error:
        assert str(error)
        return
    _check(report)


@DB
@given(data=FILES)
@example(data=b"mobile,categories\n9876543210,\x001\n9123456789,3\n")
@example(data=b'mobile,categories\n9876543210,"1,3\n')
def test_an_ndnc_register_of_anything_is_imported_row_by_row_or_refused_in_words(tmp_path, org, data):
    try:
        report = import_ndnc(path=_write(tmp_path, data), org_id=org.pk)
    except ImportFileError as error:
        assert str(error)
        return
    _check(report)
