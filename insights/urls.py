from django.urls import path

from insights import views

app_name = "insights"
urlpatterns = [
    path("", views.insights_overview, name="overview"),
    path("export.csv", views.insights_export, name="export"),
    path("campaigns/<int:pk>/clicks.csv", views.campaign_clicks_export, name="campaign-clicks-export"),
]
