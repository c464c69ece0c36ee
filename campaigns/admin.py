"""Django admin for support staff: users, orgs, customers, templates, campaigns, two-step sign-in."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models, transaction
from django.db.models import Count, Q

from campaigns.accounts import two_step
from campaigns.models import (
    Authenticator,
    Campaign,
    CampaignEvent,
    Coupon,
    Customer,
    CustomerList,
    Membership,
    NdncEntry,
    Org,
    Segment,
    SenderId,
    Template,
    Unsubscribe,
    User,
    WhitelistedUrl,
)
from linktrack.tasks import click_counters_build_task


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)
    # Who added the member (on the Team page, or here) and when: a record, never edited.
    fields = ("user", "role", "invited_by", "created_at")
    readonly_fields = ("invited_by", "created_at")


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    list_display = ("name", "sms_link_tracking", "credits")
    # Link tracking, credits and the short domain change on the Support page, the sending rules on theirs: those pages
    # check the values (a short domain is never the app's own host) and record who changed them.
    readonly_fields = (
        "sms_link_tracking",
        "short_domain",
        "short_link_with_scheme",
        "link_tracking_changed_by",
        "link_tracking_changed_at",
        "credits",
        "frequency_cap_messages",
        "frequency_cap_days",
        "launch_needs_approval",
        "launch_approval_changed_by",
        "launch_approval_changed_at",
    )
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "timezone" in form.changed_data:
            # Click counters keep days and hours on the org's clock: count its clicks again on the new one.
            transaction.on_commit(lambda: click_counters_build_task.delay(org_id=obj.pk, everything=True))

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            for new_member in formset.extra_forms:  # a member added here was added by whoever is signed in
                new_member.instance.invited_by = request.user
        super().save_formset(request, form, formset, change)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "mobile", "email", "org", "sms_subscribed", "email_subscribed")
    list_filter = ("org",)
    search_fields = ("name", "mobile", "email", "external_id")

    def get_readonly_fields(self, request, obj=None):
        # An erased customer's personal data is gone for good: nothing may be typed back in.
        if obj is not None and obj.erased_at:
            return [field.name for field in obj._meta.fields]
        return super().get_readonly_fields(request, obj)


@admin.register(SenderId)
class SenderIdAdmin(admin.ModelAdmin):
    list_display = ("header", "category", "org", "dlt_entity_id")


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "org", "sender", "dlt_template_id")
    list_filter = ("org", "channel")


class CampaignEventInline(admin.TabularInline):
    """The campaign's history, newest first. Recorded by the services that change a campaign; never edited."""

    model = CampaignEvent
    fields = readonly_fields = ("at", "kind", "user", "detail")
    ordering = ("-at", "-pk")
    extra = 0
    can_delete = False
    verbose_name_plural = "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "org", "kind", "status", "launched_at", "credits_charged")
    list_filter = ("status", "kind", "org")
    raw_id_fields = ("parent", "resend_of")
    inlines = [CampaignEventInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # State the dispatcher and supervisor own: changed through pause / resume / cancel, never by hand.
    readonly_fields = (
        "status",
        "launched_at",
        "dispatched_at",
        "next_run_at",
        "hold_reason",
        "heartbeat_at",
        "credits_charged",
        "credits_settled_at",
    )


@admin.register(CustomerList)
class CustomerListAdmin(admin.ModelAdmin):
    list_display = ("name", "org")
    filter_horizontal = ("customers",)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "org")


@admin.register(NdncEntry)
class NdncEntryAdmin(admin.ModelAdmin):
    list_display = ("mobile", "org", "blocked_categories")
    search_fields = ("mobile",)


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ("code", "customer", "expires_on")
    raw_id_fields = ("customer",)


@admin.register(Unsubscribe)
class UnsubscribeAdmin(admin.ModelAdmin):
    list_display = ("customer", "channel", "source", "created_at")
    raw_id_fields = ("customer",)


@admin.register(WhitelistedUrl)
class WhitelistedUrlAdmin(admin.ModelAdmin):
    list_display = ("url", "kind", "org", "created_by", "created_at")
    list_filter = ("kind", "org")
    search_fields = ("url",)
    raw_id_fields = ("created_by",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


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
