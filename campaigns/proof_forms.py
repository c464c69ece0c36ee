from django import forms

from campaigns.models import Channel
from campaigns.proofs import PROOF_MAX_RECIPIENTS, ProofRefused, proof_recipients_parse


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
