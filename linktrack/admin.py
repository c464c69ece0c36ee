from django.contrib import admin

from linktrack import services
from linktrack.models import Click, ShortLink


@admin.register(ShortLink)
class ShortLinkAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "destination", "expires_at", "created_at")
    search_fields = ("destination",)
    raw_id_fields = ("campaign",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.short_link_forget(short_link_id=obj.pk)


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ("clicked_at", "campaign", "short_link", "message", "channel", "is_bot")
    list_filter = ("is_bot", "channel")
    raw_id_fields = ("short_link", "campaign", "message")
