"""Short links: mint them for a campaign, resolve a code on the redirect path, record and store clicks."""

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import F
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


def _keys(short_link_id: int, message_id: int) -> list[str]:
    return [_link_key(short_link_id), _message_key(message_id)] if message_id else [_link_key(short_link_id)]


def link_resolve(*, code: str, domain: str | None) -> Resolution:
    """The link and message behind a code requested on `domain` ("" = the deployment's short base; None = do
    not check the domain). Never raises for a bad code; one cache round trip when the link is cached."""
    decoded = codes.decode(code)
    if decoded is None:
        return Resolution(problem=Problem.UNKNOWN)
    short_link_id, message_id = decoded
    cached = _cache_get_many(_keys(short_link_id, message_id))
    return _check(short_link_id, message_id, domain, cached)


def resolve(code: str) -> tuple[LinkTarget, int] | None:
    """The link and message id behind a code on any domain, or None (for scripts and the demo seed)."""
    resolution = link_resolve(code=code, domain=None)
    return (resolution.target, resolution.message_id) if resolution.found else None


def click_redirect(*, code: str, domain: str, ip: str, user_agent: str, method: str) -> Resolution:
    """The redirect's work: resolve a code and record the click, without a database write.

    When the click stream and the link cache share a Redis, reading the cached link and appending the click are
    one pipelined round trip. The click is appended before the code is checked; the flush checks every click
    again against the database and drops those of codes that did not resolve.
    """
    decoded = codes.decode(code)
    if decoded is None:
        return Resolution(problem=Problem.UNKNOWN)
    short_link_id, message_id = decoded
    event = _click_event(short_link_id, message_id, domain=domain, ip=ip, user_agent=user_agent, method=method)
    keys = _keys(short_link_id, message_id)
    client, recorded, cached = _link_cache_client(), False, {}
    if client is not None and settings.CLICK_STREAM_URL == settings.SHORT_LINK_CACHE_URL:
        try:
            pipe = client.pipeline(transaction=False)
            pipe.mget(keys)
            pipe.xadd(settings.CLICK_STREAM_KEY, event)
            values, _ = pipe.execute()
            cached, recorded = {k: v for k, v in zip(keys, values, strict=True) if v is not None}, True
        except redis.RedisError:
            logger.warning("Redis unavailable on the redirect path", exc_info=True)
    else:
        cached = _cache_get_many(keys)
    resolution = _check(short_link_id, message_id, domain, cached)
    if resolution.found and not recorded:
        _click_append(event)
    return resolution


def _check(short_link_id: int, message_id: int, domain: str | None, cached: dict) -> Resolution:
    target = _target_from_cache(cached.get(_link_key(short_link_id))) or _load_target(short_link_id)
    if target is None:
        return Resolution(problem=Problem.UNKNOWN)
    if domain is not None and domain != target.short_domain:
        return Resolution(problem=Problem.WRONG_DOMAIN)
    if message_id:
        message_campaign = cached.get(_message_key(message_id))
        message_campaign_id = int(message_campaign) if message_campaign else _load_message_campaign(message_id)
        if message_campaign_id != target.campaign_id:
            return Resolution(problem=Problem.FORGED)
    if target.expires_at is not None and target.expires_at <= time.time():
        return Resolution(problem=Problem.EXPIRED)
    return Resolution(target=target, message_id=message_id)


# The link cache: Redis itself when configured (Django's cache client costs more per call than the round trip
# here), else Django's cache (local memory in the embedded mode). Values are JSON in both.
def _link_cache_client() -> redis.Redis | None:
    url = settings.SHORT_LINK_CACHE_URL
    return _redis_client(url) if url else None


def _cache_get_many(keys: list[str]) -> dict:
    # A cache outage must not take the redirect down: the database answers instead.
    try:
        client = _link_cache_client()
        if client is None:
            return cache.get_many(keys)
        return {k: v for k, v in zip(keys, client.mget(keys), strict=True) if v is not None}
    except Exception:
        logger.warning("short link cache unavailable", exc_info=True)
        return {}


def _cache_set(key: str, value: str) -> None:
    try:
        client = _link_cache_client()
        if client is None:
            cache.set(key, value, settings.SHORT_LINK_CACHE_SECONDS)
        else:
            client.set(key, value, ex=settings.SHORT_LINK_CACHE_SECONDS)
    except Exception:
        logger.warning("short link cache unavailable", exc_info=True)


def _cache_delete_many(keys: list[str]) -> None:
    if not keys:
        return
    client = _link_cache_client()
    if client is None:
        cache.delete_many(keys)
    else:
        client.delete(*keys)


def _target_from_cache(value: str | None) -> LinkTarget | None:
    if not value:
        return None
    try:
        return LinkTarget(**json.loads(value))
    except (ValueError, TypeError):
        return None


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
    _cache_set(_link_key(short_link_id), json.dumps(asdict(target)))
    return target


def _load_message_campaign(message_id: int) -> int | None:
    message_model = apps.get_model("delivery", "Message")
    campaign_id = message_model.objects.filter(pk=message_id).values_list("campaign_id", flat=True).first()
    if campaign_id is not None:
        _cache_set(_message_key(message_id), str(campaign_id))
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
    _cache_delete_many([_link_key(short_link_id)])


def campaign_links_forget(*, campaign_id: int) -> None:
    """Drop the cached destinations of a campaign's links, after its UTM parameters changed."""
    link_ids = ShortLink.objects.filter(campaign_id=campaign_id).values_list("pk", flat=True)
    _cache_delete_many([_link_key(link_id) for link_id in link_ids])


# --- clicks ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    # One client (and connection pool) per URL and process; short timeouts so an outage falls back quickly.
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5)


def _click_stream(url: str) -> redis.Redis:
    return _redis_client(url)


def hash_ip(ip: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]


def _click_event(
    short_link_id: int, message_id: int, *, domain: str | None, ip: str, user_agent: str, method: str
) -> dict:
    event = {
        "link": short_link_id,
        "message": message_id,
        "at": f"{time.time():.6f}",
        "ip": hash_ip(ip) if ip else "",
        "ua": user_agent[:500],
        "method": method,
    }
    if domain is not None:
        event["domain"] = domain
    return event


def click_record(*, target: LinkTarget, message_id: int, ip: str, user_agent: str, method: str) -> None:
    """Note a click on a resolved link without writing to the database (see click_redirect for the redirect)."""
    _click_append(
        _click_event(target.short_link_id, message_id, domain=None, ip=ip, user_agent=user_agent, method=method)
    )


def _click_append(event: dict) -> None:
    """Append a click to the stream (stored in batches later); with no stream, or Redis down, store it now."""
    if settings.CLICK_STREAM_URL:
        try:
            _click_stream(settings.CLICK_STREAM_URL).xadd(settings.CLICK_STREAM_KEY, event)
            return
        except redis.RedisError:
            logger.warning("click stream unavailable, storing the click synchronously", exc_info=True)
    try:
        clicks_store(entries=[(f"sync-{uuid.uuid4().hex}", event)])
    except DatabaseError:
        # The person still gets their page; the click is in the log for a manual replay.
        logger.exception("could not store a click: %s", event)


def _click_from_event(event_id: str, event: dict) -> Click:
    return Click(
        event_id=event_id,
        short_link_id=int(event["link"]),
        message_id=int(event["message"]) or None,
        clicked_at=datetime.fromtimestamp(float(event["at"]), tz=UTC),
        ip_hash=event.get("ip", "")[:64],
        # PostgreSQL refuses NUL in text: one such agent must not block the batch it is in.
        user_agent=event.get("ua", "").replace("\x00", "")[:500],
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
    """Insert a batch of click events as clicks (ids already stored are ignored); returns how many it kept.

    Every event is checked again here, as the redirect did: its link exists, was minted for the domain it was
    requested on and had not expired, and its message belongs to the link's campaign. The redirect may append
    a click before it has checked the code, so this is what keeps a forged or expired code out of the counts.
    Malformed events are logged and skipped rather than blocking every later click behind them.
    """
    clicks, domains = [], {}
    for entry_id, event in entries:
        try:
            clicks.append(_click_from_event(entry_id, event))
            domains[entry_id] = event.get("domain")
        except (KeyError, ValueError, TypeError, OverflowError, AttributeError):
            logger.error("skipping a malformed click event %s: %r", entry_id, event)
    if not clicks:
        return 0
    links = {
        row["pk"]: row
        for row in ShortLink.objects.filter(pk__in={c.short_link_id for c in clicks}).values(
            "pk", "campaign_id", "short_domain", "expires_at", channel=F("campaign__template__channel")
        )
    }
    message_model = apps.get_model("delivery", "Message")
    campaign_of_message = dict(
        message_model.objects.filter(pk__in={c.message_id for c in clicks if c.message_id}).values_list(
            "pk", "campaign_id"
        )
    )
    storable = []
    for click in clicks:
        link = links.get(click.short_link_id)
        domain = domains[click.event_id]
        if link is None:
            problem = "its short link does not exist (any more)"
        elif domain is not None and domain != link["short_domain"]:
            problem = f"it was requested on {domain or 'the default short domain'}"
        elif click.message_id and campaign_of_message.get(click.message_id) != link["campaign_id"]:
            problem = "its message is not one of the link's campaign"
        elif link["expires_at"] is not None and click.clicked_at >= link["expires_at"]:
            problem = "its link had expired"
        else:
            click.campaign_id, click.channel = link["campaign_id"], link["channel"]
            storable.append(click)
            continue
        logger.info("not storing click %s on link %s: %s", click.event_id, click.short_link_id, problem)
    Click.objects.bulk_create(storable, ignore_conflicts=True)
    return len(storable)
