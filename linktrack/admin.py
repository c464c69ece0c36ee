"""Django admin for support staff: short domains, short links, clicks, and the months of clicks dropped."""

from django.contrib import admin
from django.db import models

from linktrack.models import Click, ClickRetention, ShortDomain, ShortLink
from linktrack.redirect.link_cache import short_link_forget


@admin.register(ShortDomain)
class ShortDomainAdmin(admin.ModelAdmin):
    list_display = ("host", "created_at")
    search_fields = ("host",)


@admin.register(ShortLink)
class ShortLinkAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "destination", "short_domain", "expires_at", "created_at")
    search_fields = ("destination",)
    raw_id_fields = ("campaign",)
    # Codes already sent were minted for this domain: changing it would break them.
    readonly_fields = ("short_domain",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        short_link_forget(short_link_id=obj.pk)


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ("clicked_at", "campaign", "short_link", "message", "channel", "is_bot")
    list_filter = ("is_bot", "channel")
    raw_id_fields = ("short_link", "campaign", "message")


@admin.register(ClickRetention)
class ClickRetentionAdmin(admin.ModelAdmin):
    """What CLICK_RETENTION_MONTHS dropped, and when: a record, never edited by hand (the counters' check reads it)."""

    list_display = ("dropped_at", "kept_from", "dropped")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
