from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/launch/", views.campaign_launch, name="launch"),
    path("<int:pk>/pause/", views.campaign_pause, name="pause"),
    path("<int:pk>/resume/", views.campaign_resume, name="resume"),
    path("<int:pk>/cancel/", views.campaign_cancel, name="cancel"),
    path("<int:pk>/resend/", views.campaign_resend, name="resend"),
    path("<int:pk>/progress.json", views.campaign_progress_json, name="progress"),
]
