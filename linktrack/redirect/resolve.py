"""The redirect: resolve a code to its link and message (from the link cache, else the database), check it, and
record the click; and the Location a click is sent to."""

import json
import logging
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError
from django.utils.encoding import iri_to_uri

from linktrack.models import ShortLink
from linktrack.redirect import codes, link_cache
from linktrack.redirect.clicks import click_append, click_event
from linktrack.redirect.redis_clients import redis_client, redis_failed, redis_usable, round_trip

logger = logging.getLogger(__name__)

UTM_NAMES = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(frozen=True)
class LinkTarget:
    """What the redirect needs to know about a short link; cached, so a click costs no database read."""

    short_link_id: int
    campaign_id: int
    channel: str
    destination: str  # where the redirect goes: ASCII, the campaign's UTM parameters already appended
    short_domain: str = ""
    expires_at: float | None = None  # unix time
    expired_destination: str = ""  # where the link leads once expired ("": the "link expired" page)


class Problem:
    """Why a code does not lead anywhere. Each gets the friendly 404 page; an expired link says so."""

    UNKNOWN = "unknown"  # malformed, not minted here, or its link is gone
    FORGED = "forged"  # decodes, but the message is not one of the link's campaign
    WRONG_DOMAIN = "wrong_domain"  # minted for another short domain
    EXPIRED = "expired"
    UNAVAILABLE = "unavailable"  # not in the link cache, and the database did not answer: try again in a minute


@dataclass(frozen=True)
class Resolution:
    target: LinkTarget | None = None
    message_id: int = 0
    problem: str = ""
    expired_destination: str = ""  # for an expired link: where the campaign sends its late clicks

    @property
    def found(self) -> bool:
        return self.target is not None


def link_resolve(*, code: str, domain: str | None) -> Resolution:
    """The link and message behind a code requested on `domain` ("" = the deployment's short base; None = do
    not check the domain). Never raises for a bad code; one cache round trip when the link is cached."""
    decoded = codes.decode(code)
    if decoded is None:
        return Resolution(problem=Problem.UNKNOWN)
    short_link_id, message_id = decoded
    cached = link_cache.cache_get_many(link_cache.keys_for(short_link_id, message_id))
    return _check(short_link_id, message_id, domain, cached)


def resolve(code: str) -> tuple[LinkTarget, int] | None:
    """The link and message id behind a code on any domain, or None (for scripts and the demo seed)."""
    resolution = link_resolve(code=code, domain=None)
    return (resolution.target, resolution.message_id) if resolution.found else None


def campaign_sender_name(*, campaign_id: int) -> str:
    """The name of the org that sent a campaign (for the link inspection page; not on the redirect path)."""
    campaign = apps.get_model("campaigns", "Campaign")
    return campaign.objects.filter(pk=campaign_id).values_list("org__name", flat=True).first() or ""


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
    event = click_event(short_link_id, message_id, domain=domain, ip=ip, user_agent=user_agent, method=method)
    keys = link_cache.keys_for(short_link_id, message_id)
    url, recorded, cached = settings.SHORT_LINK_CACHE_URL, False, {}
    if url and url == settings.CLICK_STREAM_URL:
        if redis_usable(url):
            try:
                values, _ = round_trip(
                    redis_client(url),
                    ("MGET", *keys),
                    ("XADD", settings.CLICK_STREAM_KEY, "*", *[item for field in event.items() for item in field]),
                )
                cached, recorded = {k: v for k, v in zip(keys, values, strict=True) if v is not None}, True
            except redis.RedisError:
                redis_failed(url)
                logger.warning(
                    "Redis unavailable on the redirect path: going without it for the next %s s",
                    settings.CLICK_STREAM_RETRY_SECONDS,
                    exc_info=True,
                )
    else:
        cached = link_cache.cache_get_many(keys)
    resolution = _check(short_link_id, message_id, domain, cached)
    if resolution.found and not recorded:
        click_append(event)
    return resolution


def _check(short_link_id: int, message_id: int, domain: str | None, cached: dict) -> Resolution:
    try:
        return _check_with_database(short_link_id, message_id, domain, cached)
    except DatabaseError:
        # A link that went out is in the cache (put there when its messages were prepared); this one was not.
        logger.warning("could not resolve link %s: the database did not answer", short_link_id, exc_info=True)
        return Resolution(problem=Problem.UNAVAILABLE)


def _check_with_database(short_link_id: int, message_id: int, domain: str | None, cached: dict) -> Resolution:
    target = _target_from_cache(cached.get(link_cache.link_key(short_link_id))) or _load_target(short_link_id)
    if target is None:
        return Resolution(problem=Problem.UNKNOWN)
    if domain is not None and domain != target.short_domain:
        return Resolution(problem=Problem.WRONG_DOMAIN)
    if message_id:
        message_campaign = cached.get(link_cache.message_key(message_id))
        message_campaign_id = int(message_campaign) if message_campaign else _load_message_campaign(message_id)
        if message_campaign_id != target.campaign_id:
            return Resolution(problem=Problem.FORGED)
    if target.expires_at is not None and target.expires_at <= time.time():
        return Resolution(problem=Problem.EXPIRED, expired_destination=target.expired_destination)
    return Resolution(target=target, message_id=message_id)


# Parsed once per process for each cached value: a campaign's clicks all read the same few links.
@lru_cache(maxsize=1024)
def _target_from_cache(value: str | None) -> LinkTarget | None:
    if not value:
        return None
    try:
        return LinkTarget(**json.loads(value))
    except (ValueError, TypeError):
        return None


def _load_target(short_link_id: int) -> LinkTarget | None:
    link = ShortLink.objects.select_related("campaign__template").filter(pk=short_link_id).first()
    target = _target_of(link) if link is not None else None
    if target is not None:
        link_cache.cache_set(link_cache.link_key(short_link_id), json.dumps(asdict(target)))
    return target


def _target_of(link: ShortLink) -> LinkTarget | None:
    destination = redirect_location(link.destination, link.campaign.utm_params)
    if destination is None:
        logger.error("short link %s has a destination the redirect refuses: %r", link.pk, link.destination)
        return None
    return LinkTarget(
        short_link_id=link.pk,
        campaign_id=link.campaign_id,
        channel=link.campaign.template.channel,
        destination=destination,
        short_domain=link.short_domain,
        expires_at=link.expires_at.timestamp() if link.expires_at else None,
        expired_destination=redirect_location(link.campaign.expired_link_url, None) or "",
    )


def campaign_links_cache(*, campaign_id: int, message_ids: list[int]) -> None:
    """Put what the redirect reads into the link cache for messages about to go out: every link of their campaign
    and each message's campaign (its code's check). Their links then resolve without the database for
    SHORT_LINK_CACHE_SECONDS, an outage of it included. A cache that fails is logged; sending goes on."""
    values = {}
    for link in ShortLink.objects.select_related("campaign__template").filter(campaign_id=campaign_id):
        target = _target_of(link)
        if target is not None:
            values[link_cache.link_key(link.pk)] = json.dumps(asdict(target))
    link_cache.cache_set_many(values)
    link_cache.cache_set_same([link_cache.message_key(message_id) for message_id in message_ids], str(campaign_id))


def _load_message_campaign(message_id: int) -> int | None:
    message_model = apps.get_model("delivery", "Message")
    # a test's message (sent from the preview) too: its short links lead where the campaign's will
    campaign_id = message_model.with_proofs.filter(pk=message_id).values_list("campaign_id", flat=True).first()
    if campaign_id is not None:
        link_cache.cache_set(link_cache.message_key(message_id), str(campaign_id))
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
        # PostgreSQL's JSON keeps no key order: write them in the order analytics tools document them
        extra.sort(key=lambda item: UTM_NAMES.index(item[0]) if item[0] in UTM_NAMES else len(UTM_NAMES))
        if extra:
            query = f"{query}&{urlencode(extra)}" if query else urlencode(extra)
    return iri_to_uri(urlunsplit((parts.scheme.lower(), netloc, parts.path, query, parts.fragment)))
