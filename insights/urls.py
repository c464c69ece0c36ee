from django.urls import path

from insights import api_key_views, views

app_name = "insights"
urlpatterns = [
    path("", views.insights_overview, name="overview"),
    path("export.csv", views.insights_export, name="export"),
    path("campaigns/<int:pk>/clicks.csv", views.campaign_clicks_export, name="campaign-clicks-export"),
    path("api-keys/", api_key_views.api_key_list, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", api_key_views.api_key_revoke, name="api-key-revoke"),
]
