"""Forms for what a campaign is (type, schedule, audience), when it starts, and what a resend targets."""

from datetime import datetime

from django import forms

from campaigns.base import clock
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
    """When a launch goes: now, or at a time on the org's clock. Posted once to see what the launch will do, then
    again with `confirmed` to launch. A time that has passed is an error next to it, never a send now."""

    NOW, AT = "now", "at"
    when = forms.ChoiceField(
        label="When",
        choices=[(NOW, "Now"), (AT, "At a time")],
        required=False,
        widget=forms.RadioSelect,
    )
    scheduled_at = forms.DateTimeField(
        required=False,
        label="Send at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="Read in the organisation's time zone.",
        error_messages={"invalid": "Enter a date and time such as 2026-11-23 18:30."},
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["when"].initial = self.NOW

    def clean_scheduled_at(self) -> datetime | None:
        return self._on_org_clock(self.cleaned_data["scheduled_at"])

    def clean(self):
        cleaned = super().clean()
        if "scheduled_at" in self.errors:
            return cleaned
        scheduled_at = cleaned.get("scheduled_at")
        # A form without the choice (a script's post) goes at the time it gives, else now.
        when = cleaned.get("when") or (self.AT if scheduled_at else self.NOW)
        cleaned["when"] = when
        if when == self.NOW:
            cleaned["scheduled_at"] = None
        elif scheduled_at is None:
            self.add_error("scheduled_at", "Choose the date and time to send at, or choose Now.")
        elif scheduled_at <= clock.now():
            now = clock.now().astimezone(self.org_timezone)
            self.add_error(
                "scheduled_at",
                f"This time has passed (it is {now:%-d %b %Y %H:%M} now): choose a time in the future, or choose Now.",
            )
        return cleaned


class ResendForm(forms.Form):
    reasons = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Resend the messages that ended as")

    def __init__(self, *args, options: list[tuple[str, str, int]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [(code, f"{title} ({count})") for code, title, count in options]
