"""What every form page shares: a service's refusal shown where the user made the mistake, times typed on the org's
clock, and fields shown (and read) only for the choice they belong to."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError

from campaigns.models import Org


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal next to the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        for message in error.messages:
            form.add_error(None, message)


class OrgClockForm(forms.Form):
    """A form whose times are typed as the org's wall clock (a browser's datetime-local has no zone)."""

    def __init__(self, *args, org_timezone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.org_timezone = ZoneInfo(org_timezone)

    def _on_org_clock(self, value: datetime | None) -> datetime | None:
        # The browser sends a wall-clock time; it means the org's clock, whatever the server's zone.
        return value.replace(tzinfo=None).replace(tzinfo=self.org_timezone) if value else None


class OrgChoiceForm(forms.Form):
    """An `org` field: one of the orgs given (the user's), hidden when there is only one; cleaned to the Org."""

    org_error = "Choose one of your organisations."
    org = forms.TypedChoiceField(label="Organisation", coerce=int)

    def __init__(self, *args, orgs: list[Org], **kwargs):
        super().__init__(*args, **kwargs)
        self.orgs = {org.pk: org for org in orgs}
        field = self.fields["org"]
        field.choices = [(org.pk, org.name) for org in orgs]
        field.error_messages["invalid_choice"] = self.org_error
        if len(orgs) == 1:
            field.initial = orgs[0].pk
            field.widget = forms.HiddenInput()

    def clean_org(self) -> Org:
        return self.orgs[self.cleaned_data["org"]]


SHOWN_IF = "data-shown-if"


def shown_if(field: forms.Field, chooser: str, *values: str) -> None:
    """Show `field` only while the form's field `chooser` has one of `values`: the page hides it otherwise
    (static linktrack/shown_if.js), and unchosen_fields_forget leaves it unread."""
    field.widget.attrs[SHOWN_IF] = f"{chooser}:{','.join(values)}"


def unchosen_fields_forget(form: forms.Form) -> None:
    """Forget what was posted in the fields not shown for the choices made (shown_if), so that only the chosen
    channel's or schedule's fields are checked and read; call it at the end of a bound form's __init__."""
    if not form.is_bound:
        return
    data, forgotten = form.data.copy(), set()
    for name, field in form.fields.items():  # a chooser comes before the fields it shows
        chooser, _, values = field.widget.attrs.get(SHOWN_IF, "").partition(":")
        if not chooser:
            continue
        chosen = "" if chooser in forgotten else data.get(form.add_prefix(chooser)) or form.fields[chooser].initial
        if str(chosen or "") not in values.split(","):
            data.pop(form.add_prefix(name), None)
            field.required = False
            forgotten.add(name)
    form.data = data
