from urllib.parse import urlsplit

from django.conf import settings


class ShortDomainMiddleware:
    """Requests to a short domain are served by the short-link URLs at the root; others by the app."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.short_host = (urlsplit(settings.SHORT_LINK_BASE_URL).hostname or "").lower()
        self.main_host_has_prefix = urlsplit(settings.SHORT_LINK_BASE_URL).path not in ("", "/")

    def __call__(self, request):
        host = request.get_host().split(":")[0].lower()
        if host == self.short_host and not self.main_host_has_prefix:
            request.urlconf = "linktrack.short_urls"
        return self.get_response(request)
