"""Links that leave the site (emails, webhooks): always on PUBLIC_BASE_URL, never the request's Host. Behind a proxy
the request may name an internal host, any host in ALLOWED_HOSTS (every short domain) would otherwise end up in the
link, and a task has no request at all. The password reset email builds its links the same way."""

from django.conf import settings


def public_url(path: str) -> str:
    """`path` (from reverse(), starting with "/") on the public address."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + path
