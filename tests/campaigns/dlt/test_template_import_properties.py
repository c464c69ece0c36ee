"""Property tests of the DLT template import: whatever a file holds (any column names among the portals', cells
with quotes, line breaks and any script, lines longer than the CSV reader takes, UTF-16, bytes that are not
text), importing it refuses the file in words or reports every row by line; the upload page answers 200 or 400,
never a 500."""

import codecs

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.base.csv_imports import ImportFileError
from campaigns.dlt.template_import import import_templates

COLUMNS = ["Template ID", "Template Content", "Header", "Template Name", "Template Type", "Status", "Sender ID",
           "Content", "Entity ID"]  # fmt: skip
CELLS = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=15),
    st.sampled_from(["1707160000000000011", "1.70716E+18", "ACMERT", "ACMERT, ACMEPR", "Approved", "Rejected",
                     "Promotional", "Service Implicit", "Hi {#var#}", "{#var1#}", "https://acme.in/{#var#}",
                     "x" * 100_001, '"', "\x00"]),
)  # fmt: skip
DELIMITERS = st.sampled_from([",", ";", "\t"])


def _file(header: list[str], rows: list[list[str]], delimiter: str, quote: bool, encoding: str) -> bytes:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if quote else value

    text = "".join(delimiter.join(cell(value) for value in line) + "\n" for line in [header, *rows])
    return text.encode(encoding, errors="replace") if encoding != "utf-8-bom" else codecs.BOM_UTF8 + text.encode()


FILES = st.one_of(
    st.builds(
        _file,
        st.lists(st.one_of(st.sampled_from(COLUMNS), CELLS), max_size=7),
        st.lists(st.lists(CELLS, max_size=7), max_size=4),
        DELIMITERS,
        st.booleans(),
        st.sampled_from(["utf-8", "utf-16", "utf-8-bom", "cp1252"]),
    ),
    st.binary(max_size=200),
)
DB = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@DB
@given(data=FILES)
@example(data=b"x" * 150_000 + b"\nTemplate ID,Template Content\n")
@example(data=b'Template ID,Template Content\n1707160000000000011,"' + b"a" * 150_000 + b'"\n')
def test_a_template_file_of_anything_is_imported_row_by_row_or_refused_in_words(org, sender, data):
    try:
        report = import_templates(org=org, data=data, dry_run=True)
    except ImportFileError as error:
        assert str(error)
        return
    assert all(row.line >= 1 and row.outcome for row in report.rows)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=FILES)
@example(data=b"x" * 100_001 + b"\n")
def test_the_upload_page_answers_200_or_400_to_any_file(client, manager, org, sender, data):
    client.force_login(manager)
    upload = SimpleUploadedFile("templates.csv", data, "text/csv")
    response = client.post(reverse("campaigns:template-import"), {"org": org.pk, "file": upload, "check_only": "on"})
    assert response.status_code in (200, 400)
