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

import redis
from django.apps import apps
from django.conf import settings
from django.core.cache import cache

from linktrack import codes
from linktrack.bots import is_bot
from linktrack.models import Click, ShortLink

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkTarget:
    """What the redirect needs to know about a short link; cached, so a click costs no database read."""

    short_link_id: int
    campaign_id: int
    channel: str
    destination: str
    expires_at: float | None = None  # unix time


def short_links_for(*, campaign, destinations: Iterable[str]) -> dict[str, int]:
    """The short link id of each destination of a campaign, minting the ones that do not exist yet."""
    wanted = set(destinations)
    existing = dict(
        ShortLink.objects.filter(campaign=campaign, destination__in=wanted).values_list("destination", "pk")
    )
    missing = [ShortLink(campaign=campaign, destination=d) for d in sorted(wanted - existing.keys())]
    if missing:
        ShortLink.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(
            ShortLink.objects.filter(campaign=campaign, destination__in=wanted).values_list("destination", "pk")
        )
    return existing


def short_link_base(*, org) -> str:
    """What every short link of an org starts with, as a message shows it: `s.cplry.com/` or `127.0.0.1:8000/s/`."""
    base = f"https://{org.short_domain}/" if org.short_domain else settings.SHORT_LINK_BASE_URL
    if not (org.short_link_with_scheme or settings.SHORT_LINK_SHOW_SCHEME):
        base = base.split("://", 1)[-1]
    return base


def short_url(*, org, short_link_id: int, message_id: int | None) -> str:
    return short_link_base(org=org) + codes.encode(short_link_id, message_id)


def _link_key(short_link_id: int) -> str:
    return f"linktrack:link:{short_link_id}"


def _message_key(message_id: int) -> str:
    return f"linktrack:msg:{message_id}"


def resolve(code: str) -> tuple[LinkTarget, int] | None:
    """The link and message id behind a code, or None for an unknown, malformed, forged or expired code."""
    decoded = codes.decode(code)
    if decoded is None:
        return None
    short_link_id, message_id = decoded
    link_key, message_key = _link_key(short_link_id), _message_key(message_id)
    cached = cache.get_many([link_key, message_key] if message_id else [link_key])
    target = cached.get(link_key) or _load_target(short_link_id)
    if target is None or (target.expires_at is not None and target.expires_at < time.time()):
        return None
    if message_id:
        message_campaign_id = cached.get(message_key) or _load_message_campaign(message_id)
        if message_campaign_id != target.campaign_id:
            return None
    return target, message_id


def _load_target(short_link_id: int) -> LinkTarget | None:
    link = ShortLink.objects.select_related("campaign__template").filter(pk=short_link_id).first()
    if link is None:
        return None
    target = LinkTarget(
        short_link_id=link.pk,
        campaign_id=link.campaign_id,
        channel=link.campaign.template.channel,
        destination=link.destination,
        expires_at=link.expires_at.timestamp() if link.expires_at else None,
    )
    cache.set(_link_key(short_link_id), target, settings.SHORT_LINK_CACHE_SECONDS)
    return target


def _load_message_campaign(message_id: int) -> int | None:
    message_model = apps.get_model("delivery", "Message")
    campaign_id = message_model.objects.filter(pk=message_id).values_list("campaign_id", flat=True).first()
    if campaign_id is not None:
        cache.set(_message_key(message_id), campaign_id, settings.SHORT_LINK_CACHE_SECONDS)
    return campaign_id


def short_link_forget(*, short_link_id: int) -> None:
    """Drop a cached destination after its short link changed."""
    cache.delete(_link_key(short_link_id))


# --- clicks ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
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
    _click_from_event(f"sync-{uuid.uuid4().hex}", event).save()


def _click_from_event(event_id: str, event: dict) -> Click:
    return Click(
        event_id=event_id,
        short_link_id=int(event["link"]),
        campaign_id=int(event["campaign"]),
        message_id=int(event["message"]) or None,
        channel=event["channel"],
        clicked_at=datetime.fromtimestamp(float(event["at"]), tz=UTC),
        ip_hash=event["ip"],
        user_agent=event["ua"],
        is_bot=is_bot(event["ua"], event["method"]),
    )


def clicks_flush(*, batch_size: int | None = None, max_batches: int = 100) -> int:
    """Store clicks from the stream in batches; returns how many were read.

    Each entry is stored under its stream id before it is deleted from the stream, so a run that crashes
    between the two stores nothing twice: the next run inserts the same ids, which the unique event_id ignores.
    """
    if not settings.CLICK_STREAM_URL:
        return 0
    stream = _click_stream(settings.CLICK_STREAM_URL)
    batch_size = batch_size or settings.CLICK_FLUSH_BATCH
    stored = 0
    for _ in range(max_batches):
        entries = stream.xrange(settings.CLICK_STREAM_KEY, count=batch_size)
        if not entries:
            break
        Click.objects.bulk_create([_click_from_event(i, e) for i, e in entries], ignore_conflicts=True)
        stream.xdel(settings.CLICK_STREAM_KEY, *[entry_id for entry_id, _ in entries])
        stored += len(entries)
    return stored
