"""URLs served on a short domain (`s.cplry.com/7383936D89`): only codes, at the root."""

from django.urls import path, re_path

from linktrack.redirect.views import short_link_inspect, short_link_not_found, short_link_redirect

urlpatterns = [
    path("", short_link_not_found),
    # A "+" after the code shows where the link leads instead of going there.
    re_path(r"^(?P<code>[^/+]+)\+/?$", short_link_inspect, name="short-link-inspect"),
    # A trailing slash some apps add still finds the link.
    re_path(r"^(?P<code>[^/]+)/?$", short_link_redirect, name="short-link"),
]

# Any other path on a short domain gets the same friendly page.
handler404 = short_link_not_found
