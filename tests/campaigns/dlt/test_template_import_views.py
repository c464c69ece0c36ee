"""Templates > Import from the DLT portal: upload, result page by outcome, errors at the top, org isolation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from campaigns.dlt.portal_file import MAX_FILE_BYTES
from campaigns.models import Template
from tests.factories import SenderIdFactory

URL = reverse("campaigns:template-import")
ID_1 = "1707160000000000011"
EXPORT = (
    "Template ID,Template Content,Template Name,Header,Template Type,Status,Created On\n"
    f'{ID_1},"Hi {{#var#}}, your order {{#var#}} has shipped",Shipped,ACMERT,Service Implicit,Approved,2026-01-02\n'
    '1707160000000000012,"Hi {#var1#}",Broken,ACMERT,Transactional,Approved,2026-01-02\n'
    '1707160000000000013,"Sale {#var#}",Sale,ACMERT,Promotional,Rejected,2026-01-02\n'
)


def _upload(content: str | bytes, name: str = "templates.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content, "text/csv")


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def test_templates_page_links_to_the_import(signed_in):
    page = signed_in.get(reverse("campaigns:template-list")).content.decode()
    assert f'href="{URL}" id="template-import-link">Import from the DLT portal' in page


def test_upload_imports_and_lists_each_row_under_its_outcome(signed_in, org, sender):
    page = signed_in.get(URL)
    assert page.status_code == 200 and "<code>ACMERT</code> (Service-Implicit)" in page.content.decode()
    assert "its variables ({#var#} and the 2026 typed tags)" in page.content.decode()

    response = signed_in.post(URL, {"org": org.pk, "file": _upload(EXPORT)})

    assert response.status_code == 200
    html = response.content.decode()
    template = Template.objects.get(org=org)
    assert (template.dlt_template_id, template.name, template.sender) == (ID_1, "Shipped", sender)
    sections = {outcome: [row.line for row in rows] for outcome, _, rows in response.context["sections"]}
    assert (sections["created"], sections["refused"], sections["skipped"]) == ([2], [3], [4])
    assert f'href="{reverse("campaigns:template-edit", args=[template.pk])}">Shipped</a>' in html
    assert "looks like a variable but is not one" in html and "(at character 4)" in html
    assert "its status is “Rejected”; only approved (active) templates are imported" in html
    assert "Ignored: “Created On”." in html

    again = signed_in.post(URL, {"org": org.pk, "file": _upload(EXPORT)})
    assert [row.line for row in again.context["report"].of("unchanged")] == [2]
    assert Template.objects.count() == 1


def test_check_only_shows_the_result_and_saves_nothing(signed_in, org, sender):
    response = signed_in.post(URL, {"org": org.pk, "file": _upload(EXPORT), "check_only": "on"})

    assert "Checked only: nothing was saved." in response.content.decode()
    assert [row.line for row in response.context["report"].of("created")] == [2]
    assert not Template.objects.exists()


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (_upload(b"\x00\x01\x02binary\xff\xfe\xfd" * 10, "export.csv"), "not a CSV file (it holds binary data)"),
        (_upload("Template ID,Template Content\n".encode("cp1252") + b"\x93Hi\x94\n"), "not text that can be read"),
        (_upload("Template ID,Header\n1707160000000000011,ACMERT\n"), "The file has no content column"),
        (_upload("hello\n"), "Is this the template list exported from the DLT portal?"),
        (_upload("x" * 100_001 + "\n"), "Line 1 holds a value longer than 100,000 characters"),
        (_upload(b"PK\x03\x04 rest of a workbook", "export.xlsx"), "This is a spreadsheet workbook"),
        (_upload(b"x" * (MAX_FILE_BYTES + 1)), "The file is 2.0 MB; this page takes at most 2 MB"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_clear_error_and_nothing_is_imported(signed_in, org, sender, upload, error):
    response = signed_in.post(URL, {"org": org.pk, "file": upload, "check_only": "on"})

    assert response.status_code == 400
    assert error in response.content.decode()
    assert response.context["form"]["check_only"].value()  # what was chosen is kept
    assert not Template.objects.exists()


def test_an_error_with_the_file_itself_is_shown_at_the_top(signed_in, org):
    response = signed_in.post(URL, {"org": org.pk, "file": _upload("hello\n")})
    html = response.content.decode()
    assert html.index('id="file-error"') < html.index('id="import-explained"')


def test_another_orgs_manager_gets_404_and_imports_nothing(client, outsider, org, sender):
    client.force_login(outsider)

    assert client.get(URL, {"org": org.pk}).status_code == 404
    assert client.post(URL, {"org": org.pk, "file": _upload(EXPORT)}).status_code == 404
    assert not Template.objects.exists()


def test_support_chooses_the_org_it_imports_into(client, support, org, other_org):
    SenderIdFactory(org=other_org, header="OTHRBR", category="transactional", dlt_entity_id="1" * 19)
    client.force_login(support)

    page = client.get(URL, {"org": other_org.pk}).content.decode()
    response = client.post(URL, {"org": other_org.pk, "file": _upload(EXPORT.replace("ACMERT", "OTHRBR"))})

    assert 'id="template-import-org"' in page and "Import templates of Other Brand" in page
    assert response.status_code == 200
    assert list(Template.objects.values_list("org__name", "dlt_template_id")) == [("Other Brand", ID_1)]


def test_the_upload_needs_the_csrf_token(manager, org, sender):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(URL, {"org": org.pk, "file": _upload(EXPORT)})

    assert response.status_code == 403 and not Template.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302
