"""Forms for customers, imports, NDNC uploads, subscriptions, lists and segments."""

from collections.abc import Mapping
from pathlib import PurePath

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from campaigns.customers.segments import (
    ANY_CHANNEL,
    CLICKED,
    SEGMENT_CHANNELS,
    SEGMENT_OPS,
    SENT,
    UNDELIVERED,
    segment_conditions_clean,
)
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


class CsvUploadForm(OrgFormMixin, forms.Form):
    """A CSV file for one of the user's orgs; each import's form gives the file field its columns."""

    def __init__(self, *args, orgs: QuerySet[Org], **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_org(orgs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        _check_csv(upload)
        return upload


class CustomerImportForm(CsvUploadForm):
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


class NdncImportForm(CsvUploadForm):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: mobile, and optionally categories (1,3 for those NCPR categories; 0, all or empty "
        "for fully blocked).",
    )


class SubscriptionForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)
    action = forms.ChoiceField(choices=[("unsubscribe", "Unsubscribe"), ("resubscribe", "Subscribe again")])
    note = forms.CharField(max_length=150, required=False, label="Why (optional)")


# What the form's "what they did" rows offer: each choice is a behaviour of the segment's conditions, done or not.
BEHAVIOUR_CHOICES = {
    "clicked": (CLICKED, False, "clicked a link in the last … days"),
    "not_clicked": (CLICKED, True, "has not clicked a link in the last … days"),
    "sent": (SENT, False, "was sent a message in the last … days"),
    "not_sent": (SENT, True, "was not sent a message in the last … days"),
    "undelivered": (UNDELIVERED, False, "whose last … messages all failed to deliver"),
    "not_undelivered": (UNDELIVERED, True, "whose last … messages did not all fail to deliver"),
}
BEHAVIOUR_ROWS = 3


def segment_conditions_from(data: Mapping) -> list[dict]:
    """The conditions a segment form (or its live count) was filled in with: the attribute rows, then the "what they
    did" rows; empty rows are left out, everything else is checked by segment_conditions_clean."""
    conditions = []
    for n in range(1, MAX_SEGMENT_CONDITIONS + 1):
        attribute = (data.get(f"attribute_{n}") or "").strip()
        value = (data.get(f"value_{n}") or "").strip()
        if attribute or value:
            conditions.append({"attribute": attribute, "op": data.get(f"op_{n}") or "eq", "value": value})
    for n in range(1, MAX_SEGMENT_CONDITIONS + 1):
        choice = data.get(f"behaviour_{n}") or ""
        if choice not in BEHAVIOUR_CHOICES:
            continue
        behaviour, negate, _ = BEHAVIOUR_CHOICES[choice]
        amount = (data.get(f"number_{n}") or "").strip()
        conditions.append(
            {
                "behaviour": behaviour,
                "messages" if behaviour == UNDELIVERED else "days": amount,
                "channel": data.get(f"channel_{n}") or ANY_CHANNEL,
                "negate": negate,
            }
        )
    return conditions


class SegmentForm(OrgFormMixin, forms.Form):
    """A segment's name and conditions: rows of attributes ("city is Pune") and rows of what customers did
    ("clicked a link in the last 30 days"); `segment` fills both in for editing (its org cannot change)."""

    name = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, orgs: QuerySet[Org], segment: Segment | None = None, **kwargs):
        stored = segment.conditions if segment is not None and isinstance(segment.conditions, list) else []
        done = [c for c in stored if isinstance(c, dict) and "behaviour" in c][:MAX_SEGMENT_CONDITIONS]
        attributes = [c for c in stored if isinstance(c, dict) and "behaviour" not in c][:MAX_SEGMENT_CONDITIONS]
        if segment is not None:
            orgs = orgs.filter(pk=segment.org_id)
            kwargs.setdefault("initial", _segment_initial(segment, attributes, done))
        super().__init__(*args, **kwargs)
        # Room for every stored condition and one more.
        self.rows = min(max(SEGMENT_CONDITION_ROWS, len(attributes) + 1), MAX_SEGMENT_CONDITIONS)
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
        self.behaviour_rows = min(max(BEHAVIOUR_ROWS, len(done) + 1), MAX_SEGMENT_CONDITIONS)
        for n in range(1, self.behaviour_rows + 1):
            self.fields[f"behaviour_{n}"] = forms.ChoiceField(
                choices=[("", "—"), *((key, words) for key, (_, _, words) in BEHAVIOUR_CHOICES.items())],
                required=False,
                label=f"What they did {n}",
            )
            self.fields[f"number_{n}"] = forms.CharField(
                max_length=4,
                required=False,
                label=f"What they did {n}: days or messages",
                widget=forms.NumberInput(attrs={"min": 1}),
            )
            self.fields[f"channel_{n}"] = forms.ChoiceField(
                choices=list(SEGMENT_CHANNELS.items()), required=False, label=f"What they did {n}: channel"
            )
            for kind in ("behaviour", "number", "channel"):
                field = self.fields[f"{kind}_{n}"]
                field.widget.attrs["aria-label"] = field.label
        self._setup_org(orgs)

    def condition_rows(self):
        return [(self[f"attribute_{n}"], self[f"op_{n}"], self[f"value_{n}"]) for n in range(1, self.rows + 1)]

    def behaviour_condition_rows(self):
        return [
            (self[f"behaviour_{n}"], self[f"number_{n}"], self[f"channel_{n}"])
            for n in range(1, self.behaviour_rows + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["conditions"] = segment_conditions_clean(segment_conditions_from(cleaned))
        except ValidationError as error:
            for message in error.messages:
                self.add_error(None, message)
        return cleaned


def _segment_initial(segment: Segment, attributes: list[dict], done: list[dict]) -> dict:
    """A stored segment as the form's fields: attribute conditions in the attribute rows, behaviour in the others."""
    initial = {"org": segment.org_id, "name": segment.name}
    for n, condition in enumerate(attributes, start=1):
        value = condition.get("value", "")
        initial[f"attribute_{n}"] = condition.get("attribute", "")
        initial[f"op_{n}"] = condition.get("op", "eq")
        initial[f"value_{n}"] = ", ".join(str(v) for v in value) if isinstance(value, list) else value
    for n, condition in enumerate(done, start=1):
        chosen = (condition.get("behaviour"), bool(condition.get("negate")))
        initial[f"behaviour_{n}"] = next(
            (k for k, (*done_as, _) in BEHAVIOUR_CHOICES.items() if done_as == list(chosen)), ""
        )
        initial[f"number_{n}"] = condition.get("messages" if condition.get("behaviour") == UNDELIVERED else "days")
        initial[f"channel_{n}"] = condition.get("channel", ANY_CHANNEL)
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


class TransactionImportForm(CsvUploadForm):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: transaction_id, time, amount, and external_id, mobile or email of the customer; "
        "optionally currency (INR when empty), store and channel.",
    )


class AttributionWindowForm(OrgFormMixin, forms.Form):
    attribution_window_days = forms.IntegerField(
        label="A purchase counts for a campaign within this many days after its message",
        min_value=1,
        max_value=90,
        error_messages={
            "required": "Give the number of days, from 1 to 90.",
            "invalid": "Give a whole number of days, from 1 to 90.",
            "min_value": "Give at least 1 day.",
            "max_value": "Give at most 90 days.",
        },
    )

    def __init__(self, *args, orgs: QuerySet[Org], **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_org(orgs)
