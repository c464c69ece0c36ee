"""Short domains: which host a request's short link lives on, which domain new links are minted for, and what
stops an org's domain from working."""

import logging
import time
from functools import lru_cache
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host

from linktrack.common.absolute_urls import app_hosts
from linktrack.models import ShortDomain

logger = logging.getLogger(__name__)

# Each web process re-reads the set of short domains this often (and at once after a change it made itself):
# routing a request by its Host then costs no database or cache read. A new domain also needs DNS and DLT
# whitelisting, so taking effect in the other processes seconds later harms nobody.
SHORT_DOMAINS_REFRESH_SECONDS = 10.0


def short_domain_host(value: str) -> str:
    """The host an org's short-domain setting names, as requests carry it: `S.Cplry.com/` -> `s.cplry.com`."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
        return host.rstrip(".").encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError):
        return ""


@lru_cache(maxsize=4)
def _root_host_of(base_url: str) -> str | None:
    parts = urlsplit(base_url)
    return short_domain_host(base_url) if parts.path in ("", "/") else None


def _default_root_host() -> str | None:
    """The host of SHORT_LINK_BASE_URL when codes are served at its root (`https://s.cplry.com/`), else None."""
    return _root_host_of(settings.SHORT_LINK_BASE_URL)


def minting_domain(*, org) -> str:
    """The short domain stored on an org's new short links: its own host, or "" for the deployment's base URL."""
    host = short_domain_host(org.short_domain)
    return "" if host == _default_root_host() else host


_short_domains: tuple[float, frozenset[str]] = (0.0, frozenset())


def short_domains() -> frozenset[str]:
    """Every org's short domain, from a per-process copy refreshed every few seconds."""
    global _short_domains
    loaded_at, domains = _short_domains
    now = time.monotonic()
    if now - loaded_at < SHORT_DOMAINS_REFRESH_SECONDS:
        return domains
    org_model = apps.get_model("campaigns", "Org")
    try:
        # Orgs' current domains, and every domain codes were minted for (an org may have moved since).
        values = list(org_model.objects.exclude(short_domain="").values_list("short_domain", flat=True))
        values += ShortDomain.objects.values_list("host", flat=True)
        domains = frozenset(filter(None, (short_domain_host(value) for value in values)))
    except DatabaseError:
        logger.warning("could not read the orgs' short domains; keeping the last known set", exc_info=True)
    _short_domains = (now, domains)
    return domains


def short_domains_forget() -> None:
    """Call after an org's short domain changed: this process re-reads the set on its next request."""
    global _short_domains
    _short_domains = (0.0, _short_domains[1])


def request_short_domain(host: str) -> str | None:
    """Which short domain a request's Host is: an org's host, "" for the deployment's own short host, or None
    when it is the app (where codes live under /s/). The app's own hosts are never a short domain, even one that
    links were minted on before that was refused: the app keeps its pages there."""
    return host_short_domain(split_domain_port(host)[0])


def host_short_domain(host: str) -> str | None:
    """request_short_domain of a host name without its port, in lower case (as split_domain_port gives it)."""
    own_hosts, root_host = _routing_hosts()
    if host in own_hosts:
        return None
    if host == root_host:
        return ""
    if host in short_domains():
        return host
    return None


@lru_cache(maxsize=1)
def _routing_hosts() -> tuple[frozenset[str], str | None]:
    """The app's own hosts and the deployment's short host, from the settings: read once rather than per request."""
    return app_hosts(), _default_root_host()


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _routing_hosts.cache_clear()  # the settings change in tests only


def short_domain_problems(*, domain: str) -> list[str]:
    """What stops a short domain from working, in words; empty when it is fine. For the pages that set it."""
    if not domain.strip():
        return []
    host = short_domain_host(domain)
    if not host or "." not in host:
        return [f"'{domain}' is not a domain name. Enter only the host, for example s.cplry.com."]
    if host in app_hosts():
        return [f"{host} is this app's own address: its pages are served there, so short links cannot be."]
    if not validate_host(host, settings.ALLOWED_HOSTS):
        return [
            f"The server does not accept requests for {host} yet: add it (or a wildcard such as "
            f".{host.split('.', 1)[1]}) to ALLOWED_HOSTS, then point its DNS at the server."
        ]
    return []
