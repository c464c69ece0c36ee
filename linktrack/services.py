"""Short links: mint them for a campaign, resolve a code on the redirect path, record and store clicks."""

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host
from django.utils.encoding import iri_to_uri

from linktrack import codes
from linktrack.bots import is_bot
from linktrack.models import Click, ShortDomain, ShortLink

logger = logging.getLogger(__name__)

# Each web process re-reads the set of short domains this often (and at once after a change it made itself):
# routing a request by its Host then costs no database or cache read. A new domain also needs DNS and DLT
# whitelisting, so taking effect in the other processes seconds later harms nobody.
SHORT_DOMAINS_REFRESH_SECONDS = 10.0


# --- short domains ----------------------------------------------------------------------------------------------


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
    when it is the app (where codes live under /s/)."""
    host, _ = split_domain_port(host)
    if host == _default_root_host():
        return ""
    if host in short_domains():
        return host
    return None


def short_domain_problems(*, domain: str) -> list[str]:
    """What stops a short domain from working, in words; empty when it is fine. For the pages that set it."""
    if not domain.strip():
        return []
    host = short_domain_host(domain)
    if not host or "." not in host:
        return [f"'{domain}' is not a domain name. Enter only the host, for example s.cplry.com."]
    if not validate_host(host, settings.ALLOWED_HOSTS):
        return [
            f"The server does not accept requests for {host} yet: add it (or a wildcard such as "
            f".{host.split('.', 1)[1]}) to ALLOWED_HOSTS, then point its DNS at the server."
        ]
    return []


# --- minting ----------------------------------------------------------------------------------------------------


def short_links_for(*, campaign, destinations: Iterable[str]) -> dict[str, int]:
    """The short link id of each destination of a campaign, minting the ones that do not exist yet.

    Links are minted for the org's current short domain; links sent before a domain change keep theirs.
    """
    wanted = set(destinations)
    domain = minting_domain(org=campaign.org)
    links = ShortLink.objects.filter(campaign=campaign, short_domain=domain, destination__in=wanted)
    existing = dict(links.values_list("destination", "pk"))
    missing = [
        ShortLink(campaign=campaign, short_domain=domain, destination=d) for d in sorted(wanted - existing.keys())
    ]
    if missing:
        if domain:
            ShortDomain.objects.get_or_create(host=domain)
        ShortLink.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(links.values_list("destination", "pk"))
    return existing


def short_link_base(*, org) -> str:
    """What every short link of an org starts with, as a message shows it: `s.cplry.com/` or `127.0.0.1:8000/s/`."""
    domain = minting_domain(org=org)
    base = f"https://{domain}/" if domain else settings.SHORT_LINK_BASE_URL
    if not (org.short_link_with_scheme or settings.SHORT_LINK_SHOW_SCHEME):
        base = base.split("://", 1)[-1]
    return base


def short_url(*, org, short_link_id: int, message_id: int | None) -> str:
    return short_link_base(org=org) + codes.encode(short_link_id, message_id)


# --- resolving a code -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkTarget:
    """What the redirect needs to know about a short link; cached, so a click costs no database read."""

    short_link_id: int
    campaign_id: int
    channel: str
    destination: str  # where the redirect goes: ASCII, the campaign's UTM parameters already appended
    short_domain: str = ""
    expires_at: float | None = None  # unix time


class Problem:
    """Why a code does not lead anywhere. Each gets the friendly 404 page; an expired link says so."""

    UNKNOWN = "unknown"  # malformed, not minted here, or its link is gone
    FORGED = "forged"  # decodes, but the message is not one of the link's campaign
    WRONG_DOMAIN = "wrong_domain"  # minted for another short domain
    EXPIRED = "expired"


@dataclass(frozen=True)
class Resolution:
    target: LinkTarget | None = None
    message_id: int = 0
    problem: str = ""

    @property
    def found(self) -> bool:
        return self.target is not None


# The version in the key keeps a deploy that changes LinkTarget from reading the previous shape.
def _link_key(short_link_id: int) -> str:
    return f"linktrack:link:v2:{short_link_id}"


def _message_key(message_id: int) -> str:
    return f"linktrack:msg:{message_id}"


def link_resolve(*, code: str, domain: str | None) -> Resolution:
    """The link and message behind a code requested on `domain` ("" = the deployment's short base; None = do
    not check the domain). Never raises for a bad code; at most one cache round trip when cached."""
    decoded = codes.decode(code)
    if decoded is None:
        return Resolution(problem=Problem.UNKNOWN)
    short_link_id, message_id = decoded
    link_key, message_key = _link_key(short_link_id), _message_key(message_id)
    cached = _cache_get_many([link_key, message_key] if message_id else [link_key])
    target = cached.get(link_key) or _load_target(short_link_id)
    if target is None:
        return Resolution(problem=Problem.UNKNOWN)
    if domain is not None and domain != target.short_domain:
        return Resolution(problem=Problem.WRONG_DOMAIN)
    if message_id:
        message_campaign_id = cached.get(message_key) or _load_message_campaign(message_id)
        if message_campaign_id != target.campaign_id:
            return Resolution(problem=Problem.FORGED)
    if target.expires_at is not None and target.expires_at <= time.time():
        return Resolution(problem=Problem.EXPIRED)
    return Resolution(target=target, message_id=message_id)


def resolve(code: str) -> tuple[LinkTarget, int] | None:
    """The link and message id behind a code on any domain, or None (for scripts and the demo seed)."""
    resolution = link_resolve(code=code, domain=None)
    return (resolution.target, resolution.message_id) if resolution.found else None


def _cache_get_many(keys: list[str]) -> dict:
    # A cache outage must not take the redirect down: the database answers instead.
    try:
        return cache.get_many(keys)
    except Exception:
        logger.warning("short link cache unavailable", exc_info=True)
        return {}


def _cache_set(key: str, value) -> None:
    try:
        cache.set(key, value, settings.SHORT_LINK_CACHE_SECONDS)
    except Exception:
        logger.warning("short link cache unavailable", exc_info=True)


def _load_target(short_link_id: int) -> LinkTarget | None:
    link = ShortLink.objects.select_related("campaign__template").filter(pk=short_link_id).first()
    if link is None:
        return None
    destination = redirect_location(link.destination, link.campaign.utm_params)
    if destination is None:
        logger.error("short link %s has a destination the redirect refuses: %r", link.pk, link.destination)
        return None
    target = LinkTarget(
        short_link_id=link.pk,
        campaign_id=link.campaign_id,
        channel=link.campaign.template.channel,
        destination=destination,
        short_domain=link.short_domain,
        expires_at=link.expires_at.timestamp() if link.expires_at else None,
    )
    _cache_set(_link_key(short_link_id), target)
    return target


def _load_message_campaign(message_id: int) -> int | None:
    message_model = apps.get_model("delivery", "Message")
    campaign_id = message_model.objects.filter(pk=message_id).values_list("campaign_id", flat=True).first()
    if campaign_id is not None:
        _cache_set(_message_key(message_id), campaign_id)
    return campaign_id


def redirect_location(destination: str, utm_params: dict | None) -> str | None:
    """The Location a click is sent to: the destination with the campaign's UTM parameters appended (existing
    query, fragment and same-name parameters kept), as ASCII; None for anything but an http(s) URL."""
    try:
        parts = urlsplit(destination.strip())
        host, port = parts.hostname, parts.port  # .port raises for a port out of range
        if parts.scheme.lower() not in ("http", "https") or not host:
            return None
        netloc = parts.netloc
        if not netloc.isascii():
            userinfo = netloc.rpartition("@")[0]
            port = f":{port}" if port else ""
            netloc = (f"{userinfo}@" if userinfo else "") + host.encode("idna").decode("ascii") + port
    except (ValueError, UnicodeError):
        return None
    query = parts.query
    if isinstance(utm_params, dict) and utm_params:
        present = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
        extra = [(str(k), str(v)) for k, v in utm_params.items() if str(k) and str(k) not in present]
        if extra:
            query = f"{query}&{urlencode(extra)}" if query else urlencode(extra)
    return iri_to_uri(urlunsplit((parts.scheme.lower(), netloc, parts.path, query, parts.fragment)))


def short_link_forget(*, short_link_id: int) -> None:
    """Drop a cached destination after its short link changed."""
    cache.delete(_link_key(short_link_id))


def campaign_links_forget(*, campaign_id: int) -> None:
    """Drop the cached destinations of a campaign's links, after its UTM parameters changed."""
    link_ids = ShortLink.objects.filter(campaign_id=campaign_id).values_list("pk", flat=True)
    cache.delete_many([_link_key(link_id) for link_id in link_ids])


# --- clicks ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _click_stream(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5)


def hash_ip(ip: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]


def click_record(*, target: LinkTarget, message_id: int, ip: str, user_agent: str, method: str) -> None:
    """Note a click without writing to the database: append it to the click stream (stored in batches later).

    With no stream configured, or when Redis is down, the click is stored at once: never lost.
    """
    event = {
        "link": target.short_link_id,
        "message": message_id,
        "campaign": target.campaign_id,
        "channel": target.channel,
        "at": f"{time.time():.6f}",
        "ip": hash_ip(ip) if ip else "",
        "ua": user_agent[:500],
        "method": method,
    }
    if settings.CLICK_STREAM_URL:
        try:
            _click_stream(settings.CLICK_STREAM_URL).xadd(settings.CLICK_STREAM_KEY, event)
            return
        except redis.RedisError:
            logger.warning("click stream unavailable, storing the click synchronously", exc_info=True)
    try:
        _click_from_event(f"sync-{uuid.uuid4().hex}", event).save()
    except DatabaseError:
        # The person still gets their page; the click is in the log for a manual replay.
        logger.exception("could not store a click: %s", event)


def _click_from_event(event_id: str, event: dict) -> Click:
    return Click(
        event_id=event_id,
        short_link_id=int(event["link"]),
        campaign_id=int(event["campaign"]),
        message_id=int(event["message"]) or None,
        channel=event["channel"],
        clicked_at=datetime.fromtimestamp(float(event["at"]), tz=UTC),
        ip_hash=event.get("ip", ""),
        user_agent=event.get("ua", ""),
        is_bot=is_bot(event.get("ua", ""), event.get("method", "GET")),
    )


def clicks_flush(*, batch_size: int | None = None, max_batches: int = 100) -> int:
    """Store clicks from the stream in batches; returns how many stream entries were handled.

    Each entry is stored under its stream id (unique) before it is deleted from the stream. A run that crashes
    between the two, or two runs reading the same entries at once, store nothing twice: inserting an id again
    is ignored. Entries are deleted only after their batch is committed, so nothing is dropped either.
    """
    if not settings.CLICK_STREAM_URL:
        return 0
    stream = _click_stream(settings.CLICK_STREAM_URL)
    batch_size = batch_size or settings.CLICK_FLUSH_BATCH
    handled = 0
    for _ in range(max_batches):
        entries = stream.xrange(settings.CLICK_STREAM_KEY, count=batch_size)
        if not entries:
            break
        clicks_store(entries=entries)
        stream.xdel(settings.CLICK_STREAM_KEY, *[entry_id for entry_id, _ in entries])
        handled += len(entries)
    return handled


def clicks_store(*, entries: list[tuple[str, dict]]) -> int:
    """Insert one batch of stream entries as clicks (ids already stored are ignored); returns how many it tried.

    An entry that cannot be stored (malformed, or its link deleted with its campaign) is logged and skipped
    rather than blocking every later click behind it.
    """
    clicks = []
    for entry_id, event in entries:
        try:
            clicks.append(_click_from_event(entry_id, event))
        except (KeyError, ValueError, TypeError, OverflowError):
            logger.error("skipping a malformed click event %s: %r", entry_id, event)
    if not clicks:
        return 0
    campaign_of_link = dict(
        ShortLink.objects.filter(pk__in={c.short_link_id for c in clicks}).values_list("pk", "campaign_id")
    )
    message_model = apps.get_model("delivery", "Message")
    messages = set(
        message_model.objects.filter(pk__in={c.message_id for c in clicks if c.message_id}).values_list("pk", flat=True)
    )
    storable = []
    for click in clicks:
        if click.short_link_id not in campaign_of_link:
            logger.warning("skipping click %s: short link %s no longer exists", click.event_id, click.short_link_id)
            continue
        click.campaign_id = campaign_of_link[click.short_link_id]
        if click.message_id not in messages:
            click.message_id = None
        storable.append(click)
    Click.objects.bulk_create(storable, ignore_conflicts=True)
    return len(storable)
