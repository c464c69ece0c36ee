"""Django admin for support staff: API keys and click webhooks."""

from django.contrib import admin

from delivery.admin import ReadOnlyForStaffAdmin
from insights.models import ApiKey, ClickWebhook


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyForStaffAdmin):
    """Read-only: keys are created and revoked on the API keys page. The hash is never shown (it would let anyone
    who reads it check a guessed key offline)."""

    list_display = ("name", "org", "shown_as", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("org",)
    search_fields = ("name", "prefix", "org__name")
    fields = ("name", "org", "shown_as", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields


@admin.register(ClickWebhook)
class ClickWebhookAdmin(ReadOnlyForStaffAdmin):
    """Read-only: webhooks are set up, paused and resumed on the webhooks page. The secret is never shown here: it
    is the org's, and with it anyone could forge calls that its system would trust."""

    list_display = ("org", "url", "is_active", "last_delivered_at", "failures_in_a_row", "last_error")
    list_filter = ("is_active", "org")
    search_fields = ("org__name", "url")
    fields = (
        "org",
        "url",
        "is_active",
        "stopped_reason",
        "created_by",
        "created_at",
        "last_click_id",
        "last_delivered_at",
        "next_attempt_at",
        "failures_in_a_row",
        "failing_since",
        "last_error",
        "last_failed_at",
    )
    readonly_fields = fields
