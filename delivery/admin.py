from django.contrib import admin

from delivery.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("recipient", "campaign", "status", "reason_code", "gateway_error", "sent_at")
    list_filter = ("status", "reason_code", "channel")
    search_fields = ("recipient", "gateway_message_id")
    raw_id_fields = ("campaign", "customer")
