"""Forms for customers, imports, NDNC uploads, subscriptions and segments."""

from pathlib import PurePath

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from campaigns.audience import SEGMENT_OPS, segment_conditions_clean
from campaigns.models import Channel, Org

SEGMENT_CONDITION_ROWS = 5
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class OrgFormMixin:
    """An `org` field limited to the user's orgs; hidden when they have only one."""

    def _setup_org(self, orgs: QuerySet[Org]) -> None:
        field = forms.ModelChoiceField(queryset=orgs.order_by("name"), label="Organisation", empty_label=None)
        if len(field.queryset) == 1:
            field.initial = field.queryset[0].pk
            field.widget = forms.HiddenInput()
        self.fields = {"org": field, **self.fields}


def _check_csv(upload) -> None:
    if PurePath(upload.name).suffix.lower() not in (".csv", ".txt"):
        raise ValidationError("Upload a .csv file (in Excel: Save As → “CSV UTF-8”).")
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it in parts.")
    if upload.size == 0:
        raise ValidationError("The file is empty.")


class CustomerImportForm(OrgFormMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: mobile, email, name, external_id, optional coupon_code and coupon_expiry; "
        "any other column becomes an attribute you can filter on.",
    )
    list_name = forms.CharField(
        label="Add the imported customers to the list",
        max_length=200,
        required=False,
        help_text="Optional. A new list is created if no list has this name.",
    )

    def __init__(self, *args, orgs: QuerySet[Org], **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_org(orgs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        _check_csv(upload)
        return upload


class NdncImportForm(OrgFormMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: mobile, and optionally categories (1,3 for those NCPR categories; 0, all or empty "
        "for fully blocked).",
    )

    def __init__(self, *args, orgs: QuerySet[Org], **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_org(orgs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        _check_csv(upload)
        return upload


class SubscriptionForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)
    action = forms.ChoiceField(choices=[("unsubscribe", "Unsubscribe"), ("resubscribe", "Subscribe again")])
    note = forms.CharField(max_length=150, required=False, label="Why (optional)")


class SegmentForm(OrgFormMixin, forms.Form):
    name = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, orgs: QuerySet[Org], **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(1, SEGMENT_CONDITION_ROWS + 1):
            self.fields[f"attribute_{number}"] = forms.CharField(
                max_length=100, required=False, label=f"Condition {number}: attribute"
            )
            self.fields[f"op_{number}"] = forms.ChoiceField(
                choices=list(SEGMENT_OPS.items()), required=False, label="comparison"
            )
            self.fields[f"value_{number}"] = forms.CharField(
                max_length=1000,
                required=False,
                label="value",
                help_text="For “is one of”, separate values with commas." if number == 1 else "",
            )
        self._setup_org(orgs)

    def condition_rows(self):
        return [
            (self[f"attribute_{n}"], self[f"op_{n}"], self[f"value_{n}"]) for n in range(1, SEGMENT_CONDITION_ROWS + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        conditions = []
        for n in range(1, SEGMENT_CONDITION_ROWS + 1):
            attribute = (cleaned.get(f"attribute_{n}") or "").strip()
            value = (cleaned.get(f"value_{n}") or "").strip()
            if attribute or value:
                conditions.append({"attribute": attribute, "op": cleaned.get(f"op_{n}") or "eq", "value": value})
        try:
            cleaned["conditions"] = segment_conditions_clean(conditions)
        except ValidationError as error:
            for message in error.messages:
                self.add_error(None, message)
        return cleaned
