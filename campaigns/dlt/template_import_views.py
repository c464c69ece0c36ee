"""Templates > Import from the DLT portal: upload the template list a DLT portal exports, then see what became of
each row (campaigns/dlt/template_import.py).

A campaign manager imports into their org, support staff into the org they choose (?org=, as other pages); the
upload names its org, and another org is a 404, exactly like an org that does not exist.
"""

from pathlib import PurePath

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from campaigns.base.access import orgs_for_user
from campaigns.base.csv_imports import ImportFileError
from campaigns.base.org_chooser import org_chosen, user_orgs
from campaigns.dlt.portal_file import COLUMNS, MAX_FILE_BYTES
from campaigns.dlt.template_import import import_templates
from campaigns.dlt.template_rows import OUTCOME_WORDS, Outcome
from campaigns.models import Org

_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_WORKBOOK_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods")


class TemplateImportForm(forms.Form):
    file = forms.FileField(
        label="Template list (CSV)",
        help_text="The list of content templates exported from the DLT portal, saved as CSV (UTF-8) or as Excel's "
        "“Unicode Text”.",
        error_messages={"required": "Choose the file exported from the DLT portal.", "empty": "The file is empty."},
    )
    check_only = forms.BooleanField(
        required=False,
        label="Check only: show what would happen, save nothing",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = PurePath(upload.name).suffix.lower()
        if suffix in _WORKBOOK_SUFFIXES:
            raise ValidationError(
                "This is a spreadsheet workbook. Open it in Excel, choose Save As → “CSV UTF-8 (comma delimited)” "
                "and upload that file."
            )
        if suffix not in _TEXT_SUFFIXES:
            raise ValidationError("Upload the .csv (or .txt) file of the DLT portal's template list.")
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; this page takes at most "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB. A DLT portal's template list is far smaller: check that you "
                "chose the export of content templates."
            )
        return upload


def _page(request, *, org: Org | None, orgs: list[Org], form: TemplateImportForm, status: int = 200):
    context = {
        "org": org,
        "orgs": orgs,
        "form": form,
        "columns": COLUMNS,
        "senders": list(org.sender_ids.order_by("header")) if org else [],
        "max_megabytes": MAX_FILE_BYTES // (1024 * 1024),
    }
    return render(request, "campaigns/template_import.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def template_import(request):
    orgs = user_orgs(request.user)
    if request.method == "GET":
        return _page(request, org=org_chosen(request, orgs), orgs=orgs, form=TemplateImportForm())
    raw_org = request.POST.get("org", "")
    org = get_object_or_404(orgs_for_user(request.user), pk=int(raw_org) if raw_org.isdigit() else 0)
    form = TemplateImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, org=org, orgs=orgs, form=form, status=400)
    try:
        report = import_templates(
            org=org,
            data=form.cleaned_data["file"].read(),
            user=request.user,
            dry_run=form.cleaned_data["check_only"],
        )
    except ImportFileError as error:
        form.add_error(None, str(error))
        return _page(request, org=org, orgs=orgs, form=form, status=400)
    counts = report.counts()
    sections = [
        (outcome, OUTCOME_WORDS[outcome], report.of(outcome))
        for outcome in (
            Outcome.REFUSED,
            Outcome.CONFLICT,
            Outcome.SKIPPED,
            Outcome.CREATED,
            Outcome.UPDATED,
            Outcome.UNCHANGED,
        )
    ]
    context = {
        "org": org,
        "report": report,
        "file_name": form.cleaned_data["file"].name,
        "figures": [(outcome, OUTCOME_WORDS[outcome], counts[outcome]) for outcome in Outcome],
        "sections": sections,
    }
    return render(request, "campaigns/template_import_result.html", context)
