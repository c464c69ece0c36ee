"""Importing DLT templates from a portal's export: portal-style headers and rows, checked as the Templates page
checks a template, reported by line; a re-import updates, and never rewrites what a sent campaign used."""

import io

import pytest
from django.core.management import CommandError, call_command

from campaigns.base.csv_imports import ImportFileError
from campaigns.dlt.template_import import import_templates
from campaigns.dlt.template_rows import Outcome
from campaigns.models import Campaign, Customer, SenderId, Template
from delivery.models import Message
from tests.factories import CampaignFactory, SenderIdFactory

ID_1 = "1707160000000000011"
ID_2 = "1707160000000000012"
BODY = "Hi {#var#}, your order {#var#} has shipped - Acme"


@pytest.fixture
def promo_sender(org) -> SenderId:
    return SenderIdFactory(
        org=org, header="512345", category=SenderId.Category.PROMOTIONAL, dlt_entity_id="1701160000000000001"
    )


def _import(org, text: str, encoding: str = "utf-8", **options):
    return import_templates(org=org, data=text.encode(encoding), **options)


def _outcomes(report) -> list[tuple[int, str, str]]:
    return [(row.line, row.outcome.value, row.header) for row in report.rows]


@pytest.mark.parametrize(
    "header_line",
    [
        "Template ID,Template Content,Template Name,Header,Template Type,Status",  # Jio TrueConnect style
        "TemplateId,Template Message,Name,Sender ID,Category,Approval Status",  # Vilpower style
        "Content Template ID,Content,Template Name,Headers,Content Type,Status",  # Airtel style
        "DLT Template ID,Message,name,HEADER,template_type,STATUS",
        "dlt-template-id;content;template name;sender id;category;status",  # semicolons, as Excel in some locales
        "Template Id\tTemplate Content\tTemplate Name\tHeader\tTemplate Type\tStatus",  # tabs
    ],
)
def test_each_portals_column_names_import_the_same_template(org, sender, header_line):
    delimiter = ";" if ";" in header_line else "\t" if "\t" in header_line else ","
    row = delimiter.join([ID_1, f'"{BODY}"', "Order shipped", "ACMERT", "Service Implicit", "Approved"])

    report = _import(org, f"{header_line}\n{row}\n")

    assert _outcomes(report) == [(2, "created", "ACMERT")]
    template = Template.objects.get(dlt_template_id=ID_1)
    assert (template.body, template.name, template.sender, template.org) == (BODY, "Order shipped", sender, org)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_byte_order_mark_and_excels_unicode_text_are_read(org, sender, encoding):
    text = f"Template ID\tTemplate Content\tHeader\n{ID_1}\tनमस्ते {{#var#}}, आपका ऑर्डर भेज दिया गया\tACMERT\n"

    report = _import(org, text, encoding)

    assert report.columns["template_id"] == "Template ID"  # the BOM is not part of the first column's name
    assert Template.objects.get(dlt_template_id=ID_1).body == "नमस्ते {#var#}, आपका ऑर्डर भेज दिया गया"


def test_a_row_with_several_headers_becomes_one_template_per_header(org, sender):
    SenderIdFactory(org=org, header="ACMEOT", category="transactional", dlt_entity_id="1701160000000000001")
    text = f'Template ID,Template Content,Template Name,Header\n{ID_1},"{BODY}",Shipped,"ACMERT, acmeot-T"\n'

    report = _import(org, text)

    assert _outcomes(report) == [(2, "created", "ACMERT"), (2, "created", "ACMEOT")]
    assert sorted(Template.objects.values_list("sender__header", "name", "dlt_template_id")) == [
        ("ACMEOT", "Shipped (ACMEOT)", ID_1),
        ("ACMERT", "Shipped (ACMERT)", ID_1),
    ]


def test_a_header_the_org_does_not_have_is_reported_and_never_invented(org, sender):
    text = f'Template ID,Template Content,Header\n{ID_1},"{BODY}","ACMERT,NEWHDR"\n{ID_2},"{BODY}",ZZZZZZ\n'

    report = _import(org, text)

    assert _outcomes(report) == [(2, "created", "ACMERT"), (2, "refused", "NEWHDR"), (3, "refused", "ZZZZZZ")]
    assert (
        report.rows[1].reason == "header NEWHDR is not one of Acme Retail's sender ids (ACMERT); support registers them"
    )
    assert not SenderId.objects.filter(header__in=["NEWHDR", "ZZZZZZ"]).exists()
    assert list(Template.objects.values_list("dlt_template_id", flat=True)) == [ID_1]


@pytest.mark.parametrize(
    ("status", "imported"),
    [
        ("Approved", True),
        ("ACTIVE", True),
        ("Rejected", False),
        ("Pending", False),
        ("Deactivated", False),
        ("", False),
    ],
)
def test_only_approved_or_active_rows_import_the_others_are_skipped_with_their_status(org, sender, status, imported):
    report = _import(org, f'Template ID,Template Content,Header,Status\n{ID_1},"{BODY}",ACMERT,{status}\n')

    assert Template.objects.exists() == imported
    if not imported:
        assert report.rows[0].outcome == Outcome.SKIPPED
        assert report.rows[0].reason.startswith(f"its status is “{status}”" if status else "it has no status")


@pytest.mark.parametrize(
    ("cells", "value", "reason"),
    [
        (
            f'{ID_1},"Hi {{#var1#}}, welcome",ACMERT',
            "Hi {#var1#}, welcome",
            "content: '{#var1#}' looks like a variable but is not one",
        ),
        (
            ID_1 + ',"Your code {#var#} is {ready",ACMERT',
            "Your code {#var#} is {ready",
            "is opened and never closed (at character 22)",
        ),
        (
            f'{ID_1},"Shop at www.acme.in {{#var#}}",ACMERT',
            "Shop at www.acme.in {#var#}",
            "content: the link 'www.acme.in' is in the fixed text of the template",
        ),
        (
            f'170716000000000001,"{BODY}",ACMERT',
            "170716000000000001",
            "template id is 18 digits; a DLT template id is 19",
        ),
        (f'1.70716E+18,"{BODY}",ACMERT', "1.70716E+18", "was turned into scientific notation by a spreadsheet"),
        (f',"{BODY}",ACMERT', "", "template id has no DLT template id"),
        (f"{ID_1},,ACMERT", "", "has no template content"),
    ],
)
def test_a_row_the_templates_page_would_refuse_is_refused_with_its_value_and_reason(org, sender, cells, value, reason):
    report = _import(org, f"Template ID,Template Content,Header\n{cells}\n")

    [row] = report.rows
    assert (row.line, row.outcome, row.value) == (2, Outcome.REFUSED, value)
    assert reason in row.reason
    assert not Template.objects.exists()


def test_a_link_in_fixed_text_imports_while_tracking_is_off(org, sender):
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])

    report = _import(org, f'Template ID,Template Content,Header\n{ID_1},"Shop at www.acme.in {{#var#}}",ACMERT\n')

    assert report.rows[0].outcome == Outcome.CREATED


def test_the_2026_typed_tags_import_and_the_spreadsheets_ways_with_long_ids_are_undone(org, sender):
    body = "OTP {#numeric#} for {#alphanumeric#}. Call {#cbn#} or see {#url#}"
    text = f'Template ID,Template Content,Header\n="{ID_1}","{body}",ACMERT\n\'{ID_2},"{body} again",ACMERT\n'

    report = _import(org, text)

    assert [row.outcome for row in report.rows] == [Outcome.CREATED, Outcome.CREATED]
    assert sorted(Template.objects.values_list("dlt_template_id", flat=True)) == [ID_1, ID_2]


def test_a_template_type_must_suit_its_headers_kind(org, sender, promo_sender):
    text = (
        "Template ID,Template Content,Header,Template Type\n"
        f'{ID_1},"{BODY}",ACMERT,PROMO\n'
        f'{ID_2},"{BODY}",512345,Promotional\n'
        f'1707160000000000013,"{BODY}",ACMERT,Festive\n'
    )

    report = _import(org, text)

    assert _outcomes(report) == [(2, "refused", "ACMERT"), (3, "created", "512345"), (4, "refused", "ACMERT")]
    assert "is a Promotional template but header ACMERT is registered as Service-Implicit" in report.rows[0].reason
    assert "template type is not one the DLT portals use" in report.rows[2].reason


def test_without_a_name_the_first_words_of_the_content_name_the_template(org, sender):
    body = "Dear {#var#}, your electricity bill of Rs {#numeric#} for account {#var#} is due on {#var#}"
    _import(org, f'Template ID,Template Content,Header\n{ID_1},"{body}",ACMERT\n')

    assert Template.objects.get().name == "Dear {#var#}, your electricity bill of…"


def test_lines_are_counted_as_in_the_file_across_a_title_line_and_a_cell_on_two_lines(org, sender):
    text = (
        "Content Template Report,,\n"
        "Template ID,Template Content,Header\n"
        f'{ID_1},"Hi {{#var#}},\nyour order shipped",ACMERT\n'
        f'{ID_2},"Hi {{#var1#}}",ACMERT\n'
    )

    report = _import(org, text)

    assert _outcomes(report) == [(3, "created", "ACMERT"), (5, "refused", "ACMERT")]
    assert report.lines_above_header == 1
    assert Template.objects.get().body == "Hi {#var#},\nyour order shipped"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", "This is an Excel workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "it holds binary data"),
        (f"{ID_1},{BODY},ACMERT\n".encode(), "The first line looks like a template, not column names"),
        (b"Template ID,Header,Status\n1707160000000000011,ACMERT,Approved\n", "The file has no content column"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_whole(org, sender, data, message):
    with pytest.raises(ImportFileError, match=message):
        import_templates(org=org, data=data)
    assert not Template.objects.exists()


def test_a_line_too_long_to_read_above_the_header_is_passed_over(org, sender):
    text = "x" * 150_000 + f'\nTemplate ID,Template Content,Header\n{ID_1},"{BODY}",ACMERT\n'

    report = _import(org, text)

    assert _outcomes(report) == [(3, "created", "ACMERT")] and report.lines_above_header == 1


def test_a_file_of_a_line_too_long_to_read_is_refused_in_words(org, sender):
    with pytest.raises(ImportFileError, match="Lines 1, 2 hold a value longer than 100,000 characters"):
        _import(org, "x" * 150_000 + "\n" + "y" * 120_000 + f"\n{ID_1},{BODY}\n")
    assert not Template.objects.exists()


def test_a_row_too_long_to_read_is_refused_and_the_other_rows_imported(org, sender):
    text = f'Template ID,Template Content,Header\n{ID_1},"{"a" * 150_000}",ACMERT\n{ID_2},"{BODY}",ACMERT\n'

    report = _import(org, text)

    assert _outcomes(report) == [(2, "refused", ""), (3, "created", "ACMERT")]
    assert "a value is longer than 100,000 characters" in report.rows[0].reason


# --- Importing again -----------------------------------------------------------------------------------------------


def _sent_campaign(template: Template) -> Campaign:
    campaign = CampaignFactory(
        org=template.org, name="Diwali shipping", template=template, status=Campaign.Status.DISPATCHED
    )
    customer = Customer.objects.create(org=template.org, mobile="+919876543210")
    Message.objects.create(campaign=campaign, customer=customer, channel="sms", recipient=customer.mobile, body="Hi")
    return campaign


def test_importing_the_same_file_again_changes_nothing(org, sender):
    text = f'Template ID,Template Content,Template Name,Header\n{ID_1},"{BODY}",Shipped,ACMERT\n'
    _import(org, text)
    before = list(Template.objects.values_list("pk", "updated_at"))

    report = _import(org, text)

    assert _outcomes(report) == [(2, "unchanged", "ACMERT")]
    assert list(Template.objects.values_list("pk", "updated_at")) == before


def test_a_changed_row_updates_the_template_found_by_id_and_header(org, sender, template):
    report = _import(
        org,
        f'Template ID,Template Content,Template Name,Header\n{template.dlt_template_id},"{BODY}",Shipped,ACMERT\n',
    )

    assert (report.rows[0].outcome, report.rows[0].reason) == (Outcome.UPDATED, "changed: text, name")
    template.refresh_from_db()
    assert (template.body, template.name, Template.objects.count()) == (BODY, "Shipped", 1)


def test_a_template_typed_by_hand_without_a_sender_is_adopted_by_the_header(org, sender):
    typed = Template.objects.create(org=org, name="Shipped", dlt_template_id=ID_1, body=BODY)

    report = _import(org, f'Template ID,Template Content,Header\n{ID_1},"{BODY}",ACMERT\n')

    assert (report.rows[0].outcome, report.rows[0].reason) == (Outcome.UPDATED, "changed: sender id")
    typed.refresh_from_db()
    assert (typed.sender, typed.name, Template.objects.count()) == (sender, "Shipped", 1)


def test_a_sent_campaigns_template_keeps_its_text_and_the_row_is_a_conflict(org, sender, template):
    _sent_campaign(template)
    text = (
        f'Template ID,Template Content,Template Name,Header\n{template.dlt_template_id},"{BODY}",Order shipped,ACMERT\n'
    )

    report = _import(org, text)

    [row] = report.rows
    assert row.outcome == Outcome.CONFLICT
    assert "the text differ from template “Order shipped”, which campaigns were sent with (“Diwali shipping”)" in (
        row.reason
    )
    template.refresh_from_db()
    assert template.body == "Hi {#var#}, your order has shipped. Track it: {#var#} - Acme"


def test_a_sent_campaigns_template_may_be_renamed(org, sender, template):
    _sent_campaign(template)
    text = f'Template ID,Template Content,Template Name,Header\n{template.dlt_template_id},"{template.body}",Shipped v1,ACMERT\n'

    report = _import(org, text)

    assert report.rows[0].outcome == Outcome.UPDATED
    template.refresh_from_db()
    assert template.name == "Shipped v1"


def test_a_drafts_template_cannot_change_its_variables(org, sender, template):
    CampaignFactory(org=org, name="Draft", template=template)

    report = _import(org, f'Template ID,Template Content,Header\n{template.dlt_template_id},"Hi {{#var#}}",ACMERT\n')

    assert report.rows[0].outcome == Outcome.CONFLICT
    assert report.rows[0].reason.startswith("The variables changed, but campaigns use this template (Draft)")


def test_a_repeated_row_is_skipped_and_another_org_is_never_touched(org, other_org, sender):
    other = Template.objects.create(org=other_org, name="Theirs", dlt_template_id=ID_1, body="Theirs {#var#}")
    row = f'{ID_1},"{BODY}",ACMERT'

    report = _import(org, f"Template ID,Template Content,Header\n{row}\n{row}\n")

    assert _outcomes(report) == [(2, "created", "ACMERT"), (3, "skipped", "ACMERT")]
    assert report.rows[1].reason == "repeats line 2"
    other.refresh_from_db()
    assert (other.body, other.sender) == ("Theirs {#var#}", None)


def test_check_only_saves_nothing(org, sender):
    report = _import(org, f'Template ID,Template Content,Header\n{ID_1},"{BODY}",ACMERT\n', dry_run=True)

    assert report.rows[0].outcome == Outcome.CREATED and report.summary().startswith("Checked only, nothing saved")
    assert not Template.objects.exists()


# --- The command ---------------------------------------------------------------------------------------------------


def test_command_imports_by_org_id_or_name_and_reports_each_row(tmp_path, org, sender):
    path = tmp_path / "templates.csv"
    path.write_text(
        f'Template ID,Template Content,Header,Status,Entity ID\n{ID_1},"{BODY}",ACMERT,Approved,1\n'
        f'{ID_2},"Hi {{#var1#}}",ACMERT,Approved,1\n1707160000000000013,"{BODY}",ACMERT,Rejected,1\n'
    )
    out = io.StringIO()

    call_command("import_templates", "--org", str(org.pk), str(path), stdout=out)
    call_command("import_templates", "--org", org.name, str(path), stdout=out)

    lines = out.getvalue().splitlines()
    assert "Ignored columns: “Entity ID”." in lines
    assert f"line 2 ({ID_1} ACMERT) “Hi {{#var#}}, your order {{#var#}} has…” created" in lines
    assert any(
        line.startswith(f"line 3 ({ID_2} ACMERT) “Hi {{#var1#}}” refused: content: '{{#var1#}}'") for line in lines
    )
    assert (
        "line 4 (1707160000000000013 ACMERT) “Rejected” skipped: its status is “Rejected”; only approved (active) templates are imported"
        in lines
    )
    assert (
        "Acme Retail: 1 created, 0 updated, 0 already up to date, 1 skipped, 1 refused, 0 not changed (conflict)."
        in lines
    )
    assert (
        "Acme Retail: 0 created, 0 updated, 1 already up to date, 1 skipped, 1 refused, 0 not changed (conflict)."
        in lines
    )
    assert Template.objects.count() == 1


def test_command_names_a_missing_org_and_a_bad_file(tmp_path, org):
    with pytest.raises(CommandError, match=r"no organisation “Nope”.*Acme Retail"):
        call_command("import_templates", "--org", "Nope", "x.csv")
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="The file has no content and template id column"):
        call_command("import_templates", "--org", org.name, str(path))
