"""The project's URLconf: every app's pages, sign-in and accounts, the short links' paths, admin."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from campaigns.accounts import sign_in, two_step_views
from campaigns.customers.opt_out_views import email_unsubscribe
from linktrack.redirect.views import healthz, short_link_inspect, short_link_redirect

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="campaigns:list"), name="home"),
    path("accounts/login/", sign_in.SignInView.as_view(), name="login"),
    path("accounts/login/code/", two_step_views.two_step_sign_in, name="two_step_sign_in"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-step/", two_step_views.two_step_setup, name="two_step"),
    path("accounts/two-step/start/", two_step_views.two_step_start, name="two_step_start"),
    path("accounts/two-step/confirm/", two_step_views.two_step_confirm, name="two_step_confirm"),
    path("accounts/two-step/turn-off/", two_step_views.two_step_turn_off, name="two_step_turn_off"),
    path("accounts/two-step/recovery-codes/", two_step_views.two_step_recovery_codes, name="two_step_recovery_codes"),
    path("accounts/notifications/", include("campaigns.accounts.notification_urls")),
    path("accounts/password/change/", sign_in.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password/reset/", sign_in.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        sign_in.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("campaigns/", include("campaigns.urls")),
    path("delivery/", include("delivery.urls")),
    path("support/", include("campaigns.support.urls")),
    path("insights/", include("insights.urls")),
    path("api/v1/", include("insights.api.urls")),
    path("s/<str:code>+", short_link_inspect, name="short-link-inspect"),
    path("s/<str:code>", short_link_redirect, name="short-link"),
    path("u/<str:token>", email_unsubscribe, name="email-unsubscribe"),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's): the pages' own icon.
    path("favicon.ico", RedirectView.as_view(url=f"/{settings.STATIC_URL.strip('/')}/linktrack/favicon.svg")),
    path("admin/", admin.site.urls),
]
