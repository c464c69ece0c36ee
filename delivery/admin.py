"""Django admin for support staff: messages, gateway configurations (with their connection check), the gateway log."""

import json

from django import forms
from django.contrib import admin, messages

from delivery.gateways.addresses import settings_address_problems
from delivery.gateways.webhooks import INFOBIP, RECEIPT_FORMATS
from delivery.models import GatewayConfig, GatewayExchange, Message, PendingReceipt
from delivery.support.gateway_check import gateway_connection_check


class SupportStaffAdmin(admin.ModelAdmin):
    """Support staff (is_staff) manage gateways and read logs without per-model permissions being handed out."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff


class ReadOnlyForStaffAdmin(SupportStaffAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("recipient", "campaign", "status", "reason_code", "gateway_error", "sent_at", "is_test")
    list_filter = ("status", "reason_code", "channel", ("proof", admin.EmptyFieldListFilter))
    search_fields = ("recipient", "gateway_message_id")
    raw_id_fields = ("campaign", "customer", "proof")

    def get_queryset(self, request):
        # Every message, the tests sent from a preview included (the default manager leaves them out of reports).
        return Message.with_proofs.select_related("campaign")

    @admin.display(boolean=True, description="test")
    def is_test(self, message: Message) -> bool:
        return message.proof_id is not None


class GatewayConfigForm(forms.ModelForm):
    """Secrets are write-only: the form never shows them; a blank field keeps what is stored."""

    new_credentials = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Set credentials",
        help_text='JSON object of secrets, e.g. {"api_key": "...", "webhook_secret": "..."} (HTTP), '
        '{"password": "..."} (SMPP, email), {"auth_token": "..."} (Twilio receipts). Stored values are never shown; '
        "leave blank to keep them. Entering new ones replaces all of them.",
    )

    class Meta:
        model = GatewayConfig
        fields = ("org", "channel", "kind", "name", "settings", "is_active")

    REQUIRED_SETTINGS = {
        GatewayConfig.Kind.HTTP: ["url"],
        GatewayConfig.Kind.SMPP: ["host", "port", "system_id"],
    }

    def clean(self):
        cleaned = super().clean()
        options = cleaned.get("settings")
        if options is not None and not isinstance(options, dict):
            self.add_error("settings", 'Enter a JSON object, like {"url": "https://gateway.example/sms"}.')
            return cleaned
        missing = [key for key in self.REQUIRED_SETTINGS.get(cleaned.get("kind"), []) if not (options or {}).get(key)]
        if missing:
            self.add_error(
                "settings",
                f"A {GatewayConfig.Kind(cleaned['kind']).label} gateway needs these settings: {', '.join(missing)}.",
            )
        for name, problem in settings_address_problems(options or {}).items():
            self.add_error("settings", f"{name}: {problem}")
        receipt_format = (options or {}).get("receipt_format", INFOBIP)
        known = isinstance(receipt_format, str) and receipt_format in RECEIPT_FORMATS
        if cleaned.get("kind") == GatewayConfig.Kind.HTTP and not known:
            choices = ", ".join(f'"{code}" ({label})' for code, label in RECEIPT_FORMATS.items())
            self.add_error("settings", f"receipt_format must be one of {choices}.")
        return cleaned

    def clean_new_credentials(self) -> dict | None:
        text = self.cleaned_data["new_credentials"].strip()
        if not text:
            return None
        try:
            credentials = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"This is not valid JSON: {error}.") from None
        if not isinstance(credentials, dict):
            raise forms.ValidationError('Enter a JSON object, like {"api_key": "..."}.')
        return credentials

    def save(self, commit=True):
        config = super().save(commit=False)
        if self.cleaned_data.get("new_credentials") is not None:
            config.credentials = self.cleaned_data["new_credentials"]
        if commit:
            config.save()
        return config


@admin.register(GatewayConfig)
class GatewayConfigAdmin(SupportStaffAdmin):
    form = GatewayConfigForm
    list_display = ("__str__", "org", "channel", "kind", "is_active", "credential_names")
    list_filter = ("kind", "channel", "is_active")
    readonly_fields = ("credential_names",)
    actions = ["check_connection"]

    @admin.action(description="Check connection (sends no message)")
    def check_connection(self, request, queryset):
        for config in queryset.order_by("pk"):
            check = gateway_connection_check(config=config)
            level = messages.SUCCESS if check.ok else messages.ERROR
            outcome = "reached" if check.ok else "could not be reached"
            self.message_user(request, f"{config}: {outcome} in {check.duration_ms} ms: {check.detail}", level)

    @admin.display(description="Stored secrets")
    def credential_names(self, config: GatewayConfig) -> str:
        return ", ".join(sorted(config.credentials)) or "none"


@admin.register(GatewayExchange)
class GatewayExchangeAdmin(ReadOnlyForStaffAdmin):
    list_display = ("created_at", "operation", "gateway_kind", "message", "duration_ms", "error")
    list_filter = ("operation", "gateway_kind")
    raw_id_fields = ("message", "gateway")


@admin.register(PendingReceipt)
class PendingReceiptAdmin(ReadOnlyForStaffAdmin):
    list_display = ("gateway_message_id", "state", "reason_code", "received_at")
