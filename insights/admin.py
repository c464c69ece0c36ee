from django.contrib import admin

from delivery.admin import ReadOnlyForStaffAdmin
from insights.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyForStaffAdmin):
    """Read-only: keys are created and revoked on the API keys page. The hash is never shown (it would let anyone
    who reads it check a guessed key offline)."""

    list_display = ("name", "org", "shown_as", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("org",)
    search_fields = ("name", "prefix", "org__name")
    fields = ("name", "org", "shown_as", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
