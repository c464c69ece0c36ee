from django.contrib import admin

from insights.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are created and revoked on the API keys page. The hash is never shown (it would let anyone
    who reads it check a guessed key offline)."""

    list_display = ("name", "org", "shown_as", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = ("org",)
    search_fields = ("name", "prefix", "org__name")
    fields = ("name", "org", "shown_as", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
