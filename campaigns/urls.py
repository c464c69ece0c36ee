from django.urls import path

from campaigns import customer_views, template_views, views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/launch/", views.campaign_launch, name="launch"),
    path("<int:pk>/preview/", template_views.campaign_preview_page, name="preview"),
    path("templates/", template_views.template_list, name="template-list"),
    path("templates/new/", template_views.template_new, name="template-new"),
    path("templates/<int:pk>/edit/", template_views.template_edit, name="template-edit"),
    path("<int:pk>/pause/", views.campaign_pause, name="pause"),
    path("<int:pk>/resume/", views.campaign_resume, name="resume"),
    path("<int:pk>/cancel/", views.campaign_cancel, name="cancel"),
    path("<int:pk>/resend/", views.campaign_resend, name="resend"),
    path("<int:pk>/progress.json", views.campaign_progress_json, name="progress"),
    path("customers/", customer_views.customer_list, name="customer-list"),
    path("customers/import/", customer_views.customer_import, name="customer-import"),
    path("customers/<int:pk>/", customer_views.customer_detail, name="customer-detail"),
    path("customers/<int:pk>/subscription/", customer_views.customer_subscription, name="customer-subscription"),
    path("imports/<str:job_id>/", customer_views.import_progress, name="import-progress"),
    path("lists/", customer_views.list_index, name="list-index"),
    path("lists/<int:pk>/", customer_views.list_detail, name="list-detail"),
    path("segments/", customer_views.segment_index, name="segment-index"),
    path("segments/new/", customer_views.segment_new, name="segment-new"),
    path("segments/count/", customer_views.segment_count, name="segment-count"),
    path("segments/<int:pk>/", customer_views.segment_detail, name="segment-detail"),
    path("ndnc/", customer_views.ndnc_register, name="ndnc"),
]
