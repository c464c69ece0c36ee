"""delivery's pages (View Details, a message's gateway log) and the gateways' webhooks, mounted at /delivery/."""

from django.urls import path

from delivery import webhook_views
from delivery.reports import message_views, views
from delivery.support import message_log_views

app_name = "delivery"
urlpatterns = [
    path("campaigns/<int:pk>/<str:group>/", views.campaign_delivery_details, name="details"),
    path("campaigns/<int:pk>/<str:group>/export.csv", views.campaign_delivery_export, name="export"),
    path("messages/<int:pk>/", message_views.message_detail, name="message"),
    path("messages/<int:pk>/log/", message_log_views.message_gateway_log, name="message-log"),
    path("webhooks/<int:gateway_id>/receipts/", webhook_views.receipt_webhook, name="receipts"),
    path("webhooks/<int:gateway_id>/inbound/", webhook_views.inbound_webhook, name="inbound"),
]
