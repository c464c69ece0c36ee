from django import forms
from django.core.exceptions import ValidationError

from campaigns.dlt import TemplateError, parse_template
from campaigns.models import Channel, Org, SenderId, Template, WhitelistedUrl
from campaigns.rendering import SLOT_SOURCES, template_campaign_problems
from campaigns.template_services import template_errors


class TemplateChoiceForm(forms.Form):
    template = forms.ModelChoiceField(queryset=Template.objects.none(), empty_label="Choose a DLT template")

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


class CampaignForm(forms.Form):
    """Name a campaign and fill each `{#var#}` of its template from text, a customer field or a link."""

    name = forms.CharField(max_length=200)

    def __init__(self, *args, template: Template, **kwargs):
        super().__init__(*args, **kwargs)
        self.template = template
        try:
            self.slot_kinds = parse_template(template.body).slots
        except TemplateError:
            self.slot_kinds = ()
        for number, kind in enumerate(self.slot_kinds, start=1):
            self.fields[f"slot_{number}_source"] = forms.ChoiceField(
                label=f"Variable {number} ({{#{kind}#}}) from", choices=list(SLOT_SOURCES.items())
            )
            self.fields[f"slot_{number}_value"] = forms.CharField(
                label=f"Variable {number} value",
                required=False,
                max_length=2000,
                help_text="Text, a link, or a customer field name (name, mobile, email, external_id, or an attribute).",
            )

    def slot_rows(self):
        return [(self[f"slot_{n}_source"], self[f"slot_{n}_value"]) for n in range(1, len(self.slot_kinds) + 1)]

    @property
    def slot_values(self) -> list[dict]:
        return [
            {
                "source": self.cleaned_data[f"slot_{n}_source"],
                "value": self.cleaned_data[f"slot_{n}_value"].strip(),
            }
            for n in range(1, len(self.slot_kinds) + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        for problem in template_campaign_problems(
            org=self.template.org, template=self.template, slot_values=self.slot_values
        ):
            self.add_error(f"slot_{problem.slot}_value" if problem.slot else None, problem.message)
        return cleaned


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

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        if self.instance.pk:
            del self.fields["org"]  # a template stays in its organisation
            self.fields["sender"].queryset = SenderId.objects.filter(org=self.instance.org)
        else:
            self.fields["sender"].queryset = SenderId.objects.filter(org__in=orgs)
            if len(orgs) == 1:
                self.fields["org"].initial = orgs[0]

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
        )
        for field, messages in errors.items():
            for message in messages:
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


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal next to the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        for message in error.messages:
            form.add_error(None, message)
