"""A user's notification settings, and the summary email's "stop these emails" link."""

from django.urls import path

from campaigns.accounts.notification_views import notifications, summary_emails_stop

app_name = "notifications"
urlpatterns = [
    path("", notifications, name="settings"),
    path("stop/<str:token>/", summary_emails_stop, name="stop"),
]
