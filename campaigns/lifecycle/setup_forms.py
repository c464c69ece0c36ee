"""Forms for what a campaign is (type, schedule, audience), when it starts, and what a resend targets."""

from datetime import datetime

from croniter import croniter
from django import forms

from campaigns.base import clock, schedules
from campaigns.base.forms import OrgClockForm, shown_if, unchosen_fields_forget
from campaigns.models import Campaign, CustomerList, Segment


class CampaignSetupForm(forms.Form):
    """A campaign's type, schedule and audience. A schedule is chosen in words (every day, week or month at a time),
    which writes its cron expression, or typed as a cron expression; only the fields of the choices made are read."""

    ONCE = "once"
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
    schedule_every = forms.ChoiceField(
        label="Repeat",
        choices=[
            (schedules.DAY, "Every day"),
            (schedules.WEEK, "Every week"),
            (schedules.MONTH, "Every month"),
            (schedules.CUSTOM, "Custom (cron)"),
            (ONCE, "Once (a reminder only)"),
        ],
        initial=schedules.DAY,
        required=False,
    )
    schedule_weekdays = forms.TypedMultipleChoiceField(
        label="On",
        choices=[(str(number), name) for number, name in schedules.WEEKDAYS.items()],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    schedule_day = forms.IntegerField(
        label="On day",
        min_value=1,
        max_value=31,
        required=False,
        help_text="Of the month, 1 to 31; a month without that day (31 in June, say) has no run.",
    )
    schedule_time = forms.TimeField(
        label="At",
        required=False,
        initial="10:00",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In the organisation's time zone.",
        error_messages={"invalid": "Enter a time such as 10:00 or 18:30."},
    )
    schedule = forms.CharField(
        label="Cron expression",
        required=False,
        max_length=100,
        help_text="Minute hour day month weekday in the organisation's time zone, e.g. '0 10 * * 1-5' every "
        "weekday at 10:00.",
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
        repeating = (Campaign.Kind.RECURRING, Campaign.Kind.COUPON_REMINDER)
        shown_if(self.fields["schedule_every"], "kind", *repeating)
        shown_if(self.fields["schedule_weekdays"], "schedule_every", schedules.WEEK)
        shown_if(self.fields["schedule_day"], "schedule_every", schedules.MONTH)
        shown_if(self.fields["schedule_time"], "schedule_every", schedules.DAY, schedules.WEEK, schedules.MONTH)
        shown_if(self.fields["schedule"], "schedule_every", schedules.CUSTOM)
        shown_if(self.fields["coupon_days"], "kind", Campaign.Kind.COUPON_REMINDER)
        if self.is_bound and not self.data.get("schedule_every"):
            # A post without the choice (a script's) gives its schedule as cron, or none: a reminder sent once.
            self.data = self.data.copy()
            self.data["schedule_every"] = schedules.CUSTOM if self.data.get("schedule") else self.ONCE
        unchosen_fields_forget(self)

    @staticmethod
    def initial_schedule(*, cron: str, kind: str) -> dict:
        """The schedule fields showing a stored cron expression: in words when it is one of them, else as cron."""
        if not cron:
            return {"schedule_every": CampaignSetupForm.ONCE} if kind == Campaign.Kind.COUPON_REMINDER else {}
        words = schedules.schedule_in_words(cron)
        if words is None:
            return {"schedule_every": schedules.CUSTOM, "schedule": cron}
        return {
            "schedule_every": words.every,
            "schedule_time": words.at,
            "schedule_weekdays": [str(day) for day in words.weekdays],
            "schedule_day": words.day,
            "schedule": cron,
        }

    def clean(self):
        """Every mistake at once: the schedule's and the reminder's, each next to its field."""
        cleaned = super().clean()
        kind = cleaned["kind"] = cleaned.get("kind") or Campaign.Kind.ONE_TIME
        if kind == Campaign.Kind.COUPON_REMINDER and cleaned.get("coupon_days") is None:
            self.add_error("coupon_days", "Say how many days before a coupon expires the reminder goes out.")
        cleaned["schedule"] = "" if kind == Campaign.Kind.ONE_TIME else self._schedule(kind, cleaned)
        return cleaned

    def _schedule(self, kind: str, cleaned: dict) -> str:
        every = cleaned.get("schedule_every") or self.ONCE
        if every == self.ONCE:
            if kind == Campaign.Kind.RECURRING:
                self.add_error("schedule_every", "A recurring campaign needs a schedule: every day, week or month.")
            return ""
        if every == schedules.CUSTOM:
            cron = " ".join(cleaned.get("schedule", "").split())
            if not cron:
                self.add_error("schedule", "Write the cron expression, or choose every day, week or month.")
            elif not croniter.is_valid(cron):
                self.add_error(
                    "schedule",
                    f"'{cron}' is not a valid schedule. Use five fields: minute hour day month weekday, for example "
                    "'0 10 * * 1' for every Monday at 10:00.",
                )
            return cron
        at = cleaned.get("schedule_time")
        if at is None and "schedule_time" not in self.errors:
            self.add_error("schedule_time", "Choose the time of day, e.g. 10:00.")
        weekdays = cleaned.get("schedule_weekdays") or []
        if every == schedules.WEEK and not weekdays:
            self.add_error("schedule_weekdays", "Tick at least one day of the week.")
        day = cleaned.get("schedule_day")
        if every == schedules.MONTH and day is None and "schedule_day" not in self.errors:
            self.add_error("schedule_day", "Choose the day of the month, 1 to 31.")
        if self.errors.keys() & {"schedule_time", "schedule_weekdays", "schedule_day"}:
            return ""
        return schedules.schedule_from_words(every=every, at=at, weekdays=weekdays, day=day).cron


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
