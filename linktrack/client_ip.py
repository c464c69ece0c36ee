"""The address a request came from, read the same way wherever it matters (clicks, sign-in throttling)."""

from django.conf import settings


def client_ip(request) -> str:
    """Behind a proxy, the header it sets (CLICK_CLIENT_IP_HEADER, e.g. HTTP_X_REAL_IP; a list gives its first
    address); otherwise, or when the header is missing, REMOTE_ADDR."""
    header = settings.CLICK_CLIENT_IP_HEADER
    value = request.META.get(header, "") if header else ""
    return value.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "")
