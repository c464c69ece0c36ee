"""The campaign form: its template, name and each variable's value (text, a customer field, a link)."""

from django import forms

from campaigns.customers.customer_fields import customer_field_problem
from campaigns.dlt.parsing import TemplateError, parse_template
from campaigns.dlt.rendering import SLOT_SOURCES, template_campaign_problems
from campaigns.models import Template


class TemplateChoiceForm(forms.Form):
    template = forms.ModelChoiceField(queryset=Template.objects.none(), empty_label="Choose a DLT template")

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


class CampaignForm(forms.Form):
    """Name a campaign and fill each `{#var#}` of its template from text, a customer field or a link."""

    name = forms.CharField(max_length=200)

    def __init__(self, *args, template: Template, coupon_reminder: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.template = template
        self.coupon_reminder = coupon_reminder  # the customer fields coupon_code and coupon_expiry may be used
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
            self.fields[f"slot_{number}_fallback"] = forms.CharField(
                label=f"Variable {number} when the customer field is empty",
                required=False,
                max_length=200,
                help_text="A customer field only: what recipients whose field is empty get instead (empty: nothing).",
            )

    def slot_rows(self):
        return [
            (self[f"slot_{n}_source"], self[f"slot_{n}_value"], self[f"slot_{n}_fallback"])
            for n in range(1, len(self.slot_kinds) + 1)
        ]

    @property
    def slot_values(self) -> list[dict]:
        slots = []
        for n in range(1, len(self.slot_kinds) + 1):
            slot = {
                "source": self.cleaned_data[f"slot_{n}_source"],
                "value": self.cleaned_data[f"slot_{n}_value"].strip(),
            }
            fallback = " ".join(self.cleaned_data[f"slot_{n}_fallback"].split())
            if slot["source"] == "field" and fallback:
                slot["fallback"] = fallback
            slots.append(slot)
        return slots

    def clean(self):
        """Every mistake at once: a missing name does not hide the variables' problems."""
        cleaned = super().clean()
        if any(name.startswith("slot_") for name in self.errors):
            return cleaned
        org, slot_values = self.template.org, self.slot_values
        for number, slot in enumerate(slot_values, start=1):
            if slot["source"] == "field":
                problem = customer_field_problem(org=org, field=slot["value"], coupon_reminder=self.coupon_reminder)
                if problem:
                    self.add_error(f"slot_{number}_value", problem)
        for problem in template_campaign_problems(org=org, template=self.template, slot_values=slot_values):
            self.add_error(f"slot_{problem.slot}_{problem.part}" if problem.slot else None, problem.message)
        return cleaned
