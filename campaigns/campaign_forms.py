"""Forms for what a campaign is (type, schedule, audience), when it starts, and what a resend targets."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms

from campaigns.models import Campaign, CustomerList, Segment


class CampaignSetupForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type",
        choices=[
            (Campaign.Kind.ONE_TIME, "One-time"),
            (Campaign.Kind.RECURRING, "Recurring"),
            (Campaign.Kind.COUPON_REMINDER, "Coupon-expiry reminder"),
        ],
        initial=Campaign.Kind.ONE_TIME,
        required=False,
    )
    schedule = forms.CharField(
        required=False,
        max_length=100,
        help_text="Recurring and reminders: minute hour day month weekday in the organisation's time zone, "
        "e.g. '0 10 * * *' every day at 10:00. Empty for a reminder sent once.",
    )
    coupon_days = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=365,
        label="Days before coupon expiry",
        help_text="Reminder: customers whose coupon expires this many days after the send date. Use the customer "
        "fields coupon_code and coupon_expiry in variables.",
    )
    audience_list = forms.ModelChoiceField(
        queryset=CustomerList.objects.none(), required=False, empty_label="Every customer"
    )
    audience_segment = forms.ModelChoiceField(queryset=Segment.objects.none(), required=False, empty_label="No filter")

    def __init__(self, *args, org, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience_list"].queryset = CustomerList.objects.filter(org=org).order_by("name")
        self.fields["audience_segment"].queryset = Segment.objects.filter(org=org).order_by("name")

    def clean(self):
        cleaned = super().clean()
        kind = cleaned["kind"] = cleaned.get("kind") or Campaign.Kind.ONE_TIME
        if kind == Campaign.Kind.RECURRING and not cleaned.get("schedule"):
            self.add_error("schedule", "A recurring campaign needs a schedule.")
        if kind == Campaign.Kind.COUPON_REMINDER and cleaned.get("coupon_days") is None:
            self.add_error("coupon_days", "Say how many days before a coupon expires the reminder goes out.")
        if kind == Campaign.Kind.ONE_TIME:
            cleaned["schedule"] = ""
        return cleaned


class _OrgClockForm(forms.Form):
    """A form whose times are typed as the org's wall clock (a browser's datetime-local has no zone)."""

    def __init__(self, *args, org_timezone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.org_timezone = ZoneInfo(org_timezone)

    def _on_org_clock(self, value: datetime | None) -> datetime | None:
        # The browser sends a wall-clock time; it means the org's clock, whatever the server's zone.
        return value.replace(tzinfo=None).replace(tzinfo=self.org_timezone) if value else None


class LaunchForm(_OrgClockForm):
    scheduled_at = forms.DateTimeField(
        required=False,
        label="Send at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Empty: send now. A time is read in the organisation's time zone.",
    )

    def clean_scheduled_at(self) -> datetime | None:
        return self._on_org_clock(self.cleaned_data["scheduled_at"])


class ResendForm(forms.Form):
    reasons = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Resend the messages that ended as")

    def __init__(self, *args, options: list[tuple[str, str, int]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [(code, f"{title} ({count})") for code, title, count in options]


class LinkSettingsForm(_OrgClockForm):
    """UTM parameters and link expiry."""

    utm_source = forms.CharField(
        label="utm_source", required=False, max_length=100, help_text="Who sent it, e.g. acme_sms."
    )
    utm_medium = forms.CharField(
        label="utm_medium", required=False, max_length=100, help_text="The channel, e.g. sms or email."
    )
    utm_campaign = forms.CharField(label="utm_campaign", required=False, max_length=100, help_text="e.g. diwali_2026.")
    utm_term = forms.CharField(label="utm_term", required=False, max_length=100)
    utm_content = forms.CharField(
        label="utm_content", required=False, max_length=100, help_text="Tells apart variants of a message."
    )
    links_expire_at = forms.DateTimeField(
        required=False,
        label="Links work until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Empty: the links never expire. Read in the organisation's time zone; a past time expires them now.",
    )
    expired_link_url = forms.URLField(
        required=False,
        max_length=2000,
        assume_scheme="https",
        label="After that, send clicks to",
        help_text="e.g. your shop's home page. Empty: a page saying the link has expired. Late clicks never count.",
    )

    def clean_links_expire_at(self) -> datetime | None:
        return self._on_org_clock(self.cleaned_data["links_expire_at"])
