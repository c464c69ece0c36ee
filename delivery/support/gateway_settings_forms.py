"""The form of one kind of gateway, built from delivery/support/gateway_settings.py's table: plain named fields, errors next
to each, secrets as password inputs that are never filled back."""

from django import forms
from django.core.validators import URLValidator

from delivery.support.gateway_settings import SECRETS, SETTINGS, Setting, channels_for

_HTTP_URL = URLValidator(schemes=["http", "https"])


def _field(setting: Setting) -> forms.Field:
    common = {"required": setting.required, "help_text": setting.help, "label": setting.name}
    bounds = {"min_value": setting.minimum, "max_value": setting.maximum}
    if setting.kind == "url":
        invalid = {"invalid": "Enter an http:// or https:// address."}
        return forms.URLField(
            assume_scheme="https", max_length=500, validators=[_HTTP_URL], error_messages=invalid, **common
        )
    if setting.kind == "email":
        return forms.EmailField(**common)
    if setting.kind == "int":
        return forms.IntegerField(**common, **bounds)
    if setting.kind == "float":
        return forms.FloatField(**common, **bounds)
    if setting.kind == "bool":
        return forms.BooleanField(**{**common, "required": False})
    if setting.kind == "choice":
        return forms.ChoiceField(choices=setting.choices, **common)
    return forms.CharField(max_length=200, **common)


class GatewayConfigForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="e.g. the gateway's company.")
    channel = forms.ChoiceField()
    is_active = forms.BooleanField(required=False, initial=True, label="Active (replaces the org's active one)")

    def __init__(self, *args, kind: str, stored_secrets: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["channel"].choices = [(channel, channel.upper()) for channel in channels_for(kind)]
        self.setting_names = [setting.name for setting in SETTINGS[kind]]
        for setting in SETTINGS[kind]:
            self.fields[setting.name] = _field(setting)
        self.secret_names = list(SECRETS[kind])
        for secret in self.secret_names:
            state = "set; leave empty to keep it" if secret in stored_secrets else "not set"
            self.fields[f"secret_{secret}"] = forms.CharField(
                required=False, label=secret, help_text=state, widget=forms.PasswordInput(render_value=False)
            )
            if secret in stored_secrets:
                self.fields[f"clear_{secret}"] = forms.BooleanField(required=False, label=f"Clear {secret}")

    def clean(self):
        cleaned = super().clean()
        for tag in ("entity_id_tlv", "template_id_tlv"):
            if cleaned.get(tag):
                try:
                    int(cleaned[tag], 0)
                except ValueError:
                    self.add_error(tag, "Write the tag as a number, e.g. 0x1400 or 5120.")
        return cleaned

    def settings_fields(self):
        return [self[name] for name in self.setting_names]

    def secret_fields(self):
        return [
            (self[f"secret_{name}"], self[f"clear_{name}"] if f"clear_{name}" in self.fields else None)
            for name in self.secret_names
        ]

    @property
    def settings(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.setting_names}

    @property
    def new_secrets(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"secret_{name}", "") for name in self.secret_names}

    @property
    def cleared_secrets(self) -> set[str]:
        return {name for name in self.secret_names if self.cleaned_data.get(f"clear_{name}")}
