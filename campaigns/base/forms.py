"""What every form page shares: a service's refusal shown where the user made the mistake, and times typed on the
org's clock."""

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
