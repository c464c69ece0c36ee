"""Forms for what a campaign is (type, schedule, audience), when it starts, and what a resend targets."""

from datetime import datetime

from django import forms

from campaigns.base.forms import OrgClockForm
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


class LaunchForm(OrgClockForm):
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
