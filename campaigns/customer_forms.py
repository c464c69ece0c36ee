"""Forms for customers, imports, NDNC uploads, subscriptions, lists and segments."""

from pathlib import PurePath

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from campaigns.audience import SEGMENT_OPS, segment_conditions_clean
from campaigns.models import Channel, Customer, CustomerList, Org, Segment

SEGMENT_CONDITION_ROWS = 5
MAX_SEGMENT_CONDITIONS = 20
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
    """A segment's name and conditions; `segment` fills it in for editing (its org cannot change)."""

    name = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, orgs: QuerySet[Org], segment: Segment | None = None, **kwargs):
        if segment is not None:
            orgs = orgs.filter(pk=segment.org_id)
            kwargs.setdefault("initial", segment_form_initial(segment))
        super().__init__(*args, **kwargs)
        stored = len(segment.conditions) if segment is not None and isinstance(segment.conditions, list) else 0
        # Room for every stored condition and one more.
        self.rows = min(max(SEGMENT_CONDITION_ROWS, stored + 1), MAX_SEGMENT_CONDITIONS)
        for number in range(1, self.rows + 1):
            # The page shows the conditions as a table whose columns say what each field is; a screen reader
            # reads each field's label instead.
            self.fields[f"attribute_{number}"] = forms.CharField(
                max_length=100, required=False, label=f"Condition {number}: attribute"
            )
            self.fields[f"op_{number}"] = forms.ChoiceField(
                choices=list(SEGMENT_OPS.items()), required=False, label=f"Condition {number}: comparison"
            )
            self.fields[f"value_{number}"] = forms.CharField(
                max_length=1000,
                required=False,
                label=f"Condition {number}: value",
                help_text="For “is one of”, separate values with commas." if number == 1 else "",
            )
            for kind in ("attribute", "op", "value"):
                field = self.fields[f"{kind}_{number}"]
                field.widget.attrs["aria-label"] = field.label
        self._setup_org(orgs)

    def condition_rows(self):
        return [(self[f"attribute_{n}"], self[f"op_{n}"], self[f"value_{n}"]) for n in range(1, self.rows + 1)]

    def clean(self):
        cleaned = super().clean()
        conditions = []
        for n in range(1, self.rows + 1):
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


def segment_form_initial(segment: Segment) -> dict:
    """A stored segment as the form's fields: "is one of" values joined by commas."""
    initial = {"org": segment.org_id, "name": segment.name}
    conditions = segment.conditions if isinstance(segment.conditions, list) else []
    for number, condition in enumerate(conditions[:MAX_SEGMENT_CONDITIONS], start=1):
        if not isinstance(condition, dict):
            continue
        value = condition.get("value", "")
        initial[f"attribute_{number}"] = condition.get("attribute", "")
        initial[f"op_{number}"] = condition.get("op", "eq")
        initial[f"value_{number}"] = ", ".join(str(v) for v in value) if isinstance(value, list) else value
    return initial


class CustomerListForm(OrgFormMixin, forms.Form):
    """A new, empty list."""

    name = forms.CharField(max_length=200, label="List name")

    def __init__(self, *args, orgs: QuerySet[Org], **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_org(orgs)


class CustomerListRenameForm(forms.Form):
    name = forms.CharField(max_length=200, label="List name")


class CustomerListsAddForm(forms.Form):
    """Put one customer on lists of their org that they are not on yet."""

    customer_lists = forms.ModelMultipleChoiceField(
        queryset=CustomerList.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Add to lists",
        error_messages={"required": "Tick at least one list."},
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_lists"].queryset = (
            CustomerList.objects.filter(org_id=customer.org_id).exclude(customers=customer).order_by("name")
        )


class CustomerBulkAddForm(forms.Form):
    """Add every customer a search finds to one list; the search (q, org) comes with the form."""

    customer_list = forms.ModelChoiceField(
        queryset=CustomerList.objects.none(),
        label="Add every customer of this search to the list",
        empty_label="Choose a list",
        error_messages={"required": "Choose the list to add the customers to."},
    )
    q = forms.CharField(required=False, widget=forms.HiddenInput)
    org = forms.ModelChoiceField(queryset=Org.objects.none(), required=False, widget=forms.HiddenInput)

    def __init__(self, *args, orgs: QuerySet[Org], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_list"].queryset = (
            CustomerList.objects.filter(org__in=orgs).select_related("org").order_by("org__name", "name")
        )
        self.fields["org"].queryset = orgs
        if len(orgs) > 1:
            self.fields["customer_list"].label_from_instance = lambda found: f"{found.name} ({found.org.name})"
