from linktrack import services


class ShortDomainMiddleware:
    """Requests to a short domain are served by the short-link URLs at the root; others by the app.

    It reads no database or cache per request: the set of short domains is a per-process copy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # get_host() refuses a Host missing from ALLOWED_HOSTS (400), so short domains must be listed there too.
        domain = services.request_short_domain(request.get_host())
        if domain is not None:
            request.urlconf = "linktrack.short_urls"
            request.short_domain = domain
        return self.get_response(request)
