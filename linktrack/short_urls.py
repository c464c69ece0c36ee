"""URLs served on a short domain (`s.cplry.com/7383936D89`): only codes, at the root."""

from django.urls import path

from linktrack.views import short_link_redirect

urlpatterns = [path("<str:code>", short_link_redirect, name="short-link")]
