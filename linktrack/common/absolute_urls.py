"""Links that leave the site (emails, webhooks): always on PUBLIC_BASE_URL, never the request's Host. Behind a proxy
the request may name an internal host, any host in ALLOWED_HOSTS (every short domain) would otherwise end up in the
link, and a task has no request at all. The password reset email builds its links the same way."""

from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings


def public_url(path: str) -> str:
    """`path` (from reverse(), starting with "/") on the public address."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def app_hosts() -> frozenset[str]:
    """The host names the app's own pages are served on, lower case: PUBLIC_BASE_URL's, WEBHOOK_BASE_URL's, the
    origins in CSRF_TRUSTED_ORIGINS, and SHORT_LINK_BASE_URL's when short links live under a path there (`/s/`).

    None of them may be an org's short domain: requests for a short domain are answered as short links, so sign-in,
    the admin and /healthz would answer 404 on it for good.
    """
    # read on every request (the short domains' routing): the settings' values key a cached answer
    return _app_hosts(
        settings.PUBLIC_BASE_URL,
        settings.WEBHOOK_BASE_URL,
        settings.SHORT_LINK_BASE_URL,
        tuple(settings.CSRF_TRUSTED_ORIGINS),
    )


@lru_cache(maxsize=8)
def _app_hosts(public: str, webhooks: str, short_links: str, trusted_origins: tuple[str, ...]) -> frozenset[str]:
    urls = [public, webhooks, *trusted_origins]
    if urlsplit(short_links).path not in ("", "/"):
        urls.append(short_links)
    return frozenset(filter(None, (host_of(url) for url in urls)))


def host_of(url: str) -> str:
    """The host name of an address (`https://App.acme.in:8443/x` -> `app.acme.in`), "" when it has none."""
    try:
        host = urlsplit(url.strip() if "://" in url else f"//{url.strip()}").hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()
