"""Support staff pages (org settings only staff may change)."""

from django.urls import path

from campaigns.support import views as support_views
from delivery.support import gateway_settings_views, message_lookup_views

app_name = "support"
urlpatterns = [
    path("", support_views.org_list, name="orgs"),
    path("messages/", message_lookup_views.message_lookup_page, name="message-lookup"),
    path("orgs/<int:pk>/", support_views.org_detail, name="org"),
    path("orgs/<int:pk>/link-tracking/", support_views.org_link_tracking, name="org-link-tracking"),
    path("orgs/<int:pk>/credits/", support_views.org_credits, name="org-credits"),
    path("orgs/<int:pk>/short-links/", support_views.org_short_links, name="org-short-links"),
    path("orgs/<int:org_pk>/gateways/new/<str:kind>/", gateway_settings_views.gateway_new, name="gateway-new"),
    path("gateways/<int:pk>/", gateway_settings_views.gateway_edit, name="gateway"),
    path("gateways/<int:pk>/check/", gateway_settings_views.gateway_check, name="gateway-check"),
]
