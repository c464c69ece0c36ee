from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, Q

from campaigns.accounts import two_step
from linktrack.models import Authenticator, Click, ShortDomain, ShortLink
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


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin):
    """Who has two-step sign-in on (a user without a row has it off), and the way to turn it off for someone who lost
    their phone and recovery codes. The secret is never shown."""

    list_display = ("user", "is_on", "confirmed_at", "recovery_codes_left")
    list_filter = (("confirmed_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__email",)
    fields = ("user", "confirmed_at", "created_at")
    readonly_fields = fields
    actions = ["turn_off"]

    def get_queryset(self, request):
        unused = Count("recovery_codes", filter=Q(recovery_codes__used_at__isnull=True))
        return super().get_queryset(request).select_related("user").annotate(unused_recovery_codes=unused)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # turning it off goes through `turn_off`, logged as such
        return actions

    def has_add_permission(self, request):
        return False  # each user sets it up with their own phone

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="Two-step sign-in on", ordering="confirmed_at")
    def is_on(self, authenticator: Authenticator) -> bool:
        return authenticator.is_on

    @admin.display(description="Recovery codes left", ordering="unused_recovery_codes")
    def recovery_codes_left(self, authenticator: Authenticator) -> int:
        return authenticator.unused_recovery_codes

    @admin.action(description="Turn off two-step sign-in (lost phone and recovery codes)", permissions=["delete"])
    def turn_off(self, request, queryset):
        users = [authenticator.user for authenticator in queryset]
        for user in users:
            if two_step.two_step_turn_off_by_support(user=user, by=request.user):
                # recorded in the user's history in the admin
                self.log_change(request, user, "Turned off two-step sign-in (lost phone); the password alone signs in.")
        self.message_user(
            request,
            f"Two-step sign-in is off for {', '.join(user.email for user in users)}: their password alone signs in.",
            messages.SUCCESS,
        )
