"""The reporting API, mounted at /api/v1/. Anything else under it is a JSON 404, never an HTML page."""

from django.urls import path, re_path

from insights.api import transactions
from insights.api import views as api

app_name = "api"
urlpatterns = [
    path("campaigns/", api.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", api.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/clicks/", api.campaign_clicks, name="campaign-clicks"),
    path("transactions/", transactions.transactions_receive, name="transactions"),
    re_path(r"^", api.no_such_endpoint),
]
