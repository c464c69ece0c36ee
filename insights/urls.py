"""insights' pages, mounted at /insights/ (the reporting API is mounted apart, at /api/v1/)."""

from django.urls import path

from insights.api import key_views as api_key_views
from insights.compare import views as comparison_views
from insights.reports import views
from insights.webhooks import views as webhook_views

app_name = "insights"
urlpatterns = [
    path("", views.insights_overview, name="overview"),
    path("export.csv", views.insights_export, name="export"),
    path("compare/", comparison_views.campaigns_compare_page, name="compare"),
    path("campaigns/<int:pk>/clicks.csv", views.campaign_clicks_export, name="campaign-clicks-export"),
    path("api-keys/", api_key_views.api_key_list, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", api_key_views.api_key_revoke, name="api-key-revoke"),
    path("webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/url/", webhook_views.webhook_change_url, name="webhook-url"),
    path("webhooks/<int:pk>/rotate-secret/", webhook_views.webhook_rotate_secret, name="webhook-rotate-secret"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook-test"),
    path("webhooks/<int:pk>/pause/", webhook_views.webhook_pause, name="webhook-pause"),
    path("webhooks/<int:pk>/resume/", webhook_views.webhook_resume, name="webhook-resume"),
]
