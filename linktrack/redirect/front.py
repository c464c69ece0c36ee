"""The short-domain front: a small WSGI layer before Django that answers a click on a short domain itself.

Phones open `s.cplry.com/7383936D89` by the thousand after a campaign goes out, and each click is one Redis round trip
of work; Django's request and response objects, URL resolution and middleware cost more than that work (the redirect
benchmark measured the Django path at 0.55-0.75 of a bare WSGI app doing the same round trip). So the front takes
only the hot request: GET or HEAD of `/<code>` (or `/<code>/`) on a short domain whose host Django would accept, and
whose code leads somewhere (a 302 to the destination, or to where an expired campaign sends its late clicks). It does
exactly what the Django path does for it (linktrack.redirect.views.short_link_redirect behind ShortDomainMiddleware):
the same host routing, decoding, link cache, domain and message checks, click event and circuit breaker
(`click_redirect`), Django's request signals whenever a database connection is open (checked and closed as usual), and the same
headers: `Cache-Control: private, no-store`, the security headers SecurityMiddleware sets (Referrer-Policy,
X-Content-Type-Options, Cross-Origin-Opener-Policy, HSTS on https) and X-Frame-Options.

Everything else goes to Django unchanged: the app's pages, `+` inspection, static files, other methods, and every
answer that is a page (unknown, forged or wrong-domain code: the friendly 404; the database down with the link not
cached: the 503 "try again"). For those the front has already resolved the click (and appended it, as the Django
path does before checking), so it hands Django the resolution rather than letting it resolve and append the click a
second time.
"""

import re
import threading
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import setting_changed
from django.db import connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.utils.encoding import iri_to_uri

from linktrack.common.client_ip import client_ip_of
from linktrack.redirect.resolve import Resolution, click_redirect
from linktrack.redirect.short_domains import host_short_domain

# What the short URLconf's code pattern matches that a code can be: letters and digits (see codes.py).
_CODE_PATH = re.compile(r"/([0-9A-Za-z]+)/?")
# Where the front leaves a click it has resolved for the Django view to answer (a WSGI server never sets it).
RESOLUTION_KEY = "linktrack.resolution"
NO_STORE = "private, no-store"


class ShortDomainFront:
    """WSGI application: short-domain clicks answered here, everything else by `django_app`."""

    def __init__(self, django_app: WSGIHandler):
        self.django_app = django_app

    def __call__(self, environ, start_response):
        config = _front_settings()
        click = _click(environ, config)
        domain = host_short_domain(click[1]) if click is not None else None
        if domain is None:
            return self.django_app(environ, start_response)
        # Django's request signals check and close database connections. A click answered from the link cache opens
        # none, and with CONN_MAX_AGE 0 none is left open by a request, so they are sent when one is open (about a
        # tenth of the front's work otherwise). None can be open at the end that was not open at the start unless
        # the click opened one (the link or message not cached, Redis down).
        _this_thread.opened_connection = False
        open_at_start = _database_open()
        if open_at_start:
            signals.request_started.send(sender=self.__class__, environ=environ)
        resolution = click_redirect(
            code=click[0],
            domain=domain,
            ip=client_ip_of(environ),
            user_agent=environ.get("HTTP_USER_AGENT", ""),
            method=environ["REQUEST_METHOD"],
        )
        location = _location(resolution)
        if location is None:
            environ[RESOLUTION_KEY] = resolution
            return self.django_app(environ, start_response)  # Django sends the signals of the request
        if (open_at_start or _this_thread.opened_connection) and _database_open():
            signals.request_finished.send(sender=self.__class__)
        secure = _is_secure(environ, config)
        start_response(
            "302 Found",
            [
                config.content_type,
                ("Location", _uri(location)),
                *(config.secure_headers if secure else config.headers),
            ],
        )
        return []


class _Settings(NamedTuple):
    """What the front reads of the settings, read once rather than on every click."""

    allowed_hosts: list[str]
    forwarded_host: bool  # USE_X_FORWARDED_HOST
    ssl_redirect: bool  # SECURE_SSL_REDIRECT
    proxy_ssl_header: tuple[str, str] | None
    content_type: tuple[str, str]
    headers: tuple[tuple[str, str], ...]  # the redirect's headers after its Location
    secure_headers: tuple[tuple[str, str], ...]  # the same over https


@lru_cache(maxsize=1)
def _front_settings() -> _Settings:
    return _Settings(
        allowed_hosts=settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else []),
        forwarded_host=settings.USE_X_FORWARDED_HOST,
        ssl_redirect=settings.SECURE_SSL_REDIRECT,
        proxy_ssl_header=settings.SECURE_PROXY_SSL_HEADER,
        content_type=("Content-Type", f"text/html; charset={settings.DEFAULT_CHARSET}"),
        headers=_redirect_headers(secure=False),
        secure_headers=_redirect_headers(secure=True),
    )


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _front_settings.cache_clear()  # the settings change in tests only
    _accepted_host.cache_clear()


def _database_open() -> bool:
    return any(connection.connection is not None for connection in connections.all(initialized_only=True))


# Whether the click being answered in this thread opened a database connection (connections are per thread).
_this_thread = threading.local()


@receiver(connection_created)
def _connection_opened(**kwargs) -> None:
    _this_thread.opened_connection = True


# A campaign's clicks go to a few destinations: each made a URI once (Django's redirect does the same to its Location).
_uri = lru_cache(maxsize=1024)(iri_to_uri)


def _click(environ, config: _Settings) -> tuple[str, str] | None:
    """The code and the host name (lower case, without port) of a GET or HEAD of a code's path, on a host Django
    accepts, where Django would not redirect to https first; None for any other request."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or RESOLUTION_KEY in environ:
        return None
    path = _CODE_PATH.fullmatch(environ.get("PATH_INFO", ""))
    if path is None:
        return None
    if "HTTP_HOST" not in environ or (config.forwarded_host and "HTTP_X_FORWARDED_HOST" in environ):
        return None  # read by Django (request.get_host)
    host = _accepted_host(environ["HTTP_HOST"])
    if host is None:
        return None  # Django answers 400
    if config.ssl_redirect and not _is_secure(environ, config):
        return None
    return path[1], host


# Clicks come on a few hosts; a Host header of any other value costs a miss, and the cache stays this small.
@lru_cache(maxsize=256)
def _accepted_host(http_host: str) -> str | None:
    """The host name of a Host header (lower case, without port) when Django accepts it (ALLOWED_HOSTS), else None."""
    host, _ = split_domain_port(http_host)
    if not host or not validate_host(host, _front_settings().allowed_hosts):
        return None
    return host


def _location(resolution: Resolution) -> str | None:
    if resolution.expired_destination:
        return resolution.expired_destination  # set by the campaign; the click never counts
    if resolution.found:
        return resolution.target.destination
    return None


def _is_secure(environ, config: _Settings) -> bool:
    """As Django's request.is_secure()."""
    if config.proxy_ssl_header:
        header, secure_value = config.proxy_ssl_header
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _redirect_headers(*, secure: bool) -> tuple[tuple[str, str], ...]:
    """The headers of the Django path's 302 after Content-Type and Location, in its order: the view's
    Cache-Control and Content-Length, XFrameOptionsMiddleware's, then SecurityMiddleware's."""
    headers = [
        ("Cache-Control", NO_STORE),
        ("Content-Length", "0"),
        ("X-Frame-Options", settings.X_FRAME_OPTIONS.upper()),
    ]
    if settings.SECURE_HSTS_SECONDS and secure:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append(("Strict-Transport-Security", hsts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        policy = ",".join([v.strip() for v in policy.split(",")] if isinstance(policy, str) else policy)
        headers.append(("Referrer-Policy", policy))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return tuple(headers)
