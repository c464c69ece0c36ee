"""Forms of DLT templates and of the org's DLT URL whitelist."""

from django import forms

from campaigns.base.forms import shown_if, unchosen_fields_forget
from campaigns.dlt.template_services import template_errors
from campaigns.models import Channel, Org, SenderId, Template, WhitelistedUrl


class TemplateForm(forms.ModelForm):
    """A DLT template; the body is checked as the operator's portal and scrubber would check it."""

    org = forms.ModelChoiceField(queryset=Org.objects.none(), label="Organisation", empty_label=None)

    class Meta:
        model = Template
        fields = ["name", "channel", "sender", "dlt_template_id", "subject", "body", "html_body"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 5, "cols": 80}),
            "html_body": forms.Textarea(attrs={"rows": 8, "cols": 80}),
        }
        help_texts = {
            "body": "Exactly as registered on DLT. Variables: {#var#}, or the typed tags {#numeric#}, "
            "{#alphanumeric#}, {#url#}, {#urlott#}, {#cbn#}, {#email#}. Put links in variables so they can be tracked.",
            "html_body": "Email only. The n-th {#var#} takes the campaign's n-th value, as in the text part.",
        }

    # The fields of one channel: shown, checked and saved only when that channel is chosen.
    CHANNEL_FIELDS = {Channel.SMS: ("sender", "dlt_template_id"), Channel.EMAIL: ("subject", "html_body")}

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].initial = self.instance.channel if self.instance.pk else Channel.SMS
        for channel, names in self.CHANNEL_FIELDS.items():
            for name in names:
                shown_if(self.fields[name], "channel", channel)
        self.fields["org"].queryset = orgs
        if self.instance.pk:
            del self.fields["org"]  # a template stays in its organisation
            self.fields["sender"].queryset = SenderId.objects.filter(org=self.instance.org)
        else:
            self.fields["sender"].queryset = SenderId.objects.filter(org__in=orgs)
            if len(orgs) == 1:
                self.fields["org"].initial = orgs[0]
        unchosen_fields_forget(self)

    @property
    def org_for_template(self) -> Org | None:
        return self.instance.org if self.instance.pk else self.cleaned_data.get("org")

    def clean(self):
        cleaned = super().clean()
        org = self.org_for_template
        if org is None or "body" not in cleaned:
            return cleaned
        errors = template_errors(
            org=org,
            channel=cleaned.get("channel") or Channel.SMS,
            subject=cleaned.get("subject", ""),
            body=cleaned["body"],
            html_body=cleaned.get("html_body", ""),
            sender=cleaned.get("sender"),
            dlt_template_id=cleaned.get("dlt_template_id", ""),
        )
        for field, messages in errors.items():
            for message in messages:
                if field not in self.errors or message not in self.errors[field]:
                    self.add_error(field, message)
        return cleaned


class WhitelistedUrlForm(forms.Form):
    """A URL as whitelisted on the DLT portal; checked by the service (shape, static without '?', shorteners)."""

    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="Exactly as whitelisted on the DLT portal, e.g. https://www.acme.in/sale or, for short links, "
        "s.cplry.com/ as a dynamic URL.",
        widget=forms.TextInput(attrs={"size": 60}),
    )
    kind = forms.ChoiceField(
        label="Type",
        choices=WhitelistedUrl.Kind.choices,
        initial=WhitelistedUrl.Kind.STATIC,
        widget=forms.RadioSelect,
        help_text="Static: this exact link (no '?'). Dynamic: every link that starts with it, "
        "e.g. https://acme.in/order?id= covers https://acme.in/order?id=42.",
    )
