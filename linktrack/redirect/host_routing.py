"""A request on a short domain (s.cplry.com) is served by the short URLconf (linktrack.redirect.urls) only: its root
holds codes (and the static files of its own pages); nothing else of the app answers there."""

from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, get_resolver
from whitenoise.middleware import WhiteNoiseMiddleware

from linktrack.redirect.short_domains import request_short_domain
from linktrack.redirect.views import short_link_not_found

SHORT_URLCONF = "linktrack.redirect.urls"


class ShortDomainMiddleware:
    """Requests to a short domain are served the short-link URLs at the root; others go on to the app.

    It reads no database or cache per request: the set of short domains is a per-process copy. A short domain
    serves nothing but codes, and the static files (the stylesheet) of its own pages, so its requests skip the app's
    middleware (sessions, CSRF, login, messages: about a quarter of a click's CPU) and keep the security and framing
    headers.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.short_link_response = SecurityMiddleware(
            WhiteNoiseMiddleware(XFrameOptionsMiddleware(_short_link_response))
        )

    def __call__(self, request):
        # get_host() refuses a Host missing from ALLOWED_HOSTS (400), so short domains must be listed there too.
        domain = request_short_domain(request.get_host())
        if domain is None:
            return self.get_response(request)
        request.urlconf = SHORT_URLCONF
        request.short_domain = domain
        return self.short_link_response(request)


def _short_link_response(request):
    try:
        match = get_resolver(SHORT_URLCONF).resolve(request.path_info)
    except Resolver404:
        return short_link_not_found(request)
    return match.func(request, *match.args, **match.kwargs)
