"""Forms of sending: the preview's "Send a test", and a campaign's link settings (UTM parameters, expiry)."""

from datetime import datetime

from django import forms

from campaigns.base.forms import OrgClockForm
from campaigns.models import Channel
from campaigns.sending.test_sends import PROOF_MAX_RECIPIENTS, ProofRefused, proof_recipients_parse


class ProofForm(forms.Form):
    """The preview's "Send a test": 1 to 5 mobile numbers, or email addresses for an email campaign."""

    recipients = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        error_messages={"required": "Enter at least one number or address to send the test to."},
    )

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        what = "email addresses" if channel == Channel.EMAIL else "mobile numbers"
        self.fields[
            "recipients"
        ].label = f"Send a test to (1 to {PROOF_MAX_RECIPIENTS} {what}, one a line or comma-separated)"

    def clean_recipients(self) -> list[str]:
        try:
            return proof_recipients_parse(channel=self.channel, text=self.cleaned_data["recipients"])
        except ProofRefused as refused:
            raise forms.ValidationError(str(refused)) from None


class LinkSettingsForm(OrgClockForm):
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
