"""Support staff pages (org settings only staff may change)."""

from django.urls import path  # noqa: F401  (patterns are added with the support pages)

app_name = "support"
urlpatterns: list = []
