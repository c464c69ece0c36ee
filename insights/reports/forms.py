"""What the Insights page and its CSV export show: which organisation, which period and which channel.

The page is a GET form, so every filter is in its address (and the export link carries it). A filter that does not
make sense (a malformed date, "to" before "from") is shown as an error next to its field and the page falls back to
the default period, never to an error page. An organisation that is not the user's is not a form error but a 404,
decided by the view.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.formats import date_format

from campaigns.models import Channel, Org

PRESET_DAYS = {"7": 7, "30": 30, "90": 90}
ALL_TIME, CUSTOM = "all", "custom"
DEFAULT_PERIOD = "30"
PERIOD_CHOICES = [
    *((key, f"Last {days} days") for key, days in PRESET_DAYS.items()),
    (ALL_TIME, "All time"),
    (CUSTOM, "Custom dates"),
]
# Dates outside these bounds mean nothing for clicks and would overflow once turned into times in UTC.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class InsightsFilter:
    """One organisation's clicks between two calendar days of its time zone (both included), on one channel or all."""

    org: Org
    zone: ZoneInfo
    period: str  # a PERIOD_CHOICES key
    channel: str  # a Channel value, or "" for every channel
    first_day: date | None  # None: since the first click
    last_day: date | None  # None: up to now

    @property
    def since(self) -> datetime | None:
        return datetime.combine(self.first_day, time.min, tzinfo=self.zone) if self.first_day else None

    @property
    def until(self) -> datetime | None:
        """The first moment after the period: midnight at the end of its last day (exclusive)."""
        return (
            datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=self.zone) if self.last_day else None
        )

    @property
    def channels(self) -> list[str]:
        return [self.channel] if self.channel else list(Channel.values)

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label if self.channel else "all channels"

    @property
    def period_label(self) -> str:
        """The period in words, e.g. "26 Oct 2026 to 24 Nov 2026"."""
        first, last = (_in_words(day) for day in (self.first_day, self.last_day))
        if first and last:
            return f"{first} to {last}" if first != last else first
        if first:
            return f"since {first}"
        return f"up to {last}" if last else "all time"

    @property
    def period_slug(self) -> str:
        """The period for a file name, e.g. "2026-10-26-to-2026-11-24"."""
        first, last = (day.isoformat() if day else "" for day in (self.first_day, self.last_day))
        if first and last:
            return f"{first}-to-{last}"
        if first:
            return f"from-{first}"
        return f"until-{last}" if last else "all-time"


def _in_words(day: date | None) -> str:
    return date_format(day, "j M Y") if day else ""


def _date_field(label: str, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        help_text=help_text,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"],
        error_messages={"invalid": "Enter a date such as 2026-11-20 (year-month-day)."},
    )


class InsightsFilterForm(forms.Form):
    """Bound to the page's query string. Call `insights_filter()` after checking `has_error("org")`."""

    org = forms.TypedChoiceField(label="Organisation", coerce=int, required=False, empty_value=None)
    period = forms.ChoiceField(
        label="Period",
        choices=PERIOD_CHOICES,
        required=False,
        error_messages={"invalid_choice": "Choose one of the periods offered."},
    )
    channel = forms.ChoiceField(
        label="Channel",
        choices=[("", "All channels"), *Channel.choices],
        required=False,
        error_messages={"invalid_choice": "Choose SMS, Email or all channels."},
    )

    label_suffix = ""

    def __init__(self, data, *, orgs: list[Org], **kwargs):
        data = data.copy()
        # A link with dates but no period means those dates; with neither, the default period.
        has_dates = bool(data.get("from") or data.get("to"))
        if not data.get("period"):
            data["period"] = CUSTOM if has_dates else DEFAULT_PERIOD
        if not data.get("org") and orgs:
            data["org"] = str(orgs[0].pk)
        super().__init__(data, **kwargs)
        self.orgs = {org.pk: org for org in orgs}
        self.fields["org"].choices = [(org.pk, org.name) for org in orgs]
        if len(orgs) == 1:
            self.fields["org"].widget = forms.HiddenInput()
        # "from" is a Python keyword, so these two fields cannot be declared as class attributes.
        self.fields["from"] = _date_field("From")
        self.fields["to"] = _date_field("To", help_text="Both days included. Used when the period is “Custom dates”.")
        self.order_fields(["org", "period", "from", "to", "channel"])

    def clean_org(self) -> Org:
        org_id = self.cleaned_data["org"]
        if org_id not in self.orgs:
            raise forms.ValidationError("You have no such organisation.")
        return self.orgs[org_id]

    def clean_from(self) -> date | None:
        return _within_bounds(self.cleaned_data["from"])

    def clean_to(self) -> date | None:
        return _within_bounds(self.cleaned_data["to"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("period") != CUSTOM:
            return cleaned
        first, last = cleaned.get("from"), cleaned.get("to")
        if first and last and last < first:
            self.add_error("to", f"“To” is before “From”: choose {_in_words(first)} or a later day.")
        elif not first and not last and not self.has_error("from") and not self.has_error("to"):
            self.add_error("from", "Custom dates need a “From” day, a “To” day, or both.")
        return cleaned

    def insights_filter(self) -> InsightsFilter:
        """What to show: the valid filters, and the default period in place of a period with an error."""
        self.is_valid()
        org = self.cleaned_data["org"]
        zone = ZoneInfo(org.timezone)
        channel = self.cleaned_data.get("channel") or ""
        period_fields = ("period", "from", "to")
        period = DEFAULT_PERIOD
        if not any(self.has_error(field) for field in period_fields):
            period = self.cleaned_data["period"]
        today = timezone.now().astimezone(zone).date()
        if period == CUSTOM:
            first_day, last_day = self.cleaned_data["from"], self.cleaned_data["to"]
        elif period == ALL_TIME:
            first_day = last_day = None
        else:
            first_day, last_day = today - timedelta(days=PRESET_DAYS[period] - 1), today
        return InsightsFilter(
            org=org, zone=zone, period=period, channel=channel, first_day=first_day, last_day=last_day
        )


def _within_bounds(day: date | None) -> date | None:
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(f"Enter a day between {_in_words(EARLIEST_DAY)} and {_in_words(LATEST_DAY)}.")
    return day
