from django.urls import path

from delivery import views

app_name = "delivery"
urlpatterns = [
    path("campaigns/<int:pk>/<str:group>/", views.campaign_delivery_details, name="details"),
    path("campaigns/<int:pk>/<str:group>/export.csv", views.campaign_delivery_export, name="export"),
    path("messages/<int:pk>/log/", views.message_gateway_log, name="message-log"),
    path("webhooks/<int:gateway_id>/receipts/", views.receipt_webhook, name="receipts"),
    path("webhooks/<int:gateway_id>/inbound/", views.inbound_webhook, name="inbound"),
]
