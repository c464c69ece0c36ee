"""Clicks: the event a hit on a short link becomes, appended to a Redis stream and stored in batches (the flush,
linktrack.redirect.click_flush), or stored at once when there is no stream."""

import hashlib
import hmac
import logging
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import redis
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F

from linktrack.common.rows import rows_insert
from linktrack.counts.counters import counted_of, counters_add
from linktrack.models import Click, ShortLink
from linktrack.redirect.bots import is_bot
from linktrack.redirect.redis_clients import redis_client, redis_failed, redis_usable

if TYPE_CHECKING:
    from linktrack.redirect.resolve import LinkTarget

logger = logging.getLogger(__name__)


def _click_stream(url: str) -> redis.Redis:
    return redis_client(url)


def hash_ip(ip: str) -> str:
    return hmac.digest(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hex()[:32]


def new_event_id() -> str:
    """A click's own id, given where the click happens: 12 hex digits of milliseconds then 20 random ones (ordered by
    time like a ULID, 32 characters). The stream entry and a direct insert of the same click carry it, so whichever
    comes second is dropped by the unique event_id."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def click_event(
    short_link_id: int, message_id: int, *, domain: str | None, ip: str, user_agent: str, method: str
) -> dict:
    """A click as the stream and a direct insert carry it. Its id and its time are both fixed here, once: the click
    table's unique key is (event_id, clicked_at) (partitioned by month on PostgreSQL), so the same click stored
    twice must come with the same time to be recognised."""
    event = {
        "id": new_event_id(),
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


def click_record(*, target: "LinkTarget", message_id: int, ip: str, user_agent: str, method: str) -> None:
    """Note a click on a resolved link without writing to the database (see click_redirect for the redirect)."""
    click_append(
        click_event(target.short_link_id, message_id, domain=None, ip=ip, user_agent=user_agent, method=method)
    )


def click_append(event: dict) -> None:
    """Append a click to the stream (stored in batches later); with no stream, or Redis down, store it now.

    After a failure the stream is not tried again for CLICK_STREAM_RETRY_SECONDS (redis_usable). A timeout does not
    mean the click is not in the stream: a stalled Redis runs the XADD when it wakes, and the flush then finds the
    event's id already stored."""
    url = settings.CLICK_STREAM_URL
    if url and redis_usable(url):
        try:
            _click_stream(url).xadd(settings.CLICK_STREAM_KEY, event)
            return
        except redis.RedisError:
            redis_failed(url)
            logger.warning(
                "click stream unavailable: clicks are stored directly for the next %s s",
                settings.CLICK_STREAM_RETRY_SECONDS,
                exc_info=True,
            )
    try:
        clicks_store(entries=[(new_event_id(), event)])  # stored under the event's own id; this one if it has none
    except DatabaseError:
        # The person still gets their page; the click is in the log for a manual replay.
        logger.exception("could not store a click: %s", event)


def _event_id_of(event: dict, *, fallback: str) -> str:
    """The id a click is stored under: its own (given in the web process), else `fallback` (the stream entry's id,
    for events appended before clicks had one)."""
    own = event.get("id") if isinstance(event, dict) else None
    return own if isinstance(own, str) and 0 < len(own) <= 64 else fallback


def click_stream_at_risk() -> str:
    """Why clicks waiting in the stream could be lost, in words; "" when they are safe or there is no stream.

    They are safe when the stream's Redis writes an append-only file (a restart reads it back) or has a replica
    (which takes over). With neither, a restart empties the stream: the clicks not yet stored are gone. A managed
    Redis that refuses CONFIG still answers INFO; one that refuses both is said to be unknown.
    """
    url = settings.CLICK_STREAM_URL
    if not url:
        return ""
    client = _click_stream(url)
    try:
        append_only = _append_only(client)
        try:
            replicas = int(client.info("replication").get("connected_slaves", 0))
        except redis.ResponseError:
            replicas = None
    except redis.RedisError as error:
        return f"the click stream's Redis could not be asked whether it keeps clicks on disk ({error})"
    if append_only or replicas:
        return ""
    if append_only is None or replicas is None:
        return (
            "the click stream's Redis does not say whether it has an append-only file or a replica (it refuses INFO "
            "and CONFIG): without either, a restart loses the clicks waiting to be stored"
        )
    return (
        "the click stream's Redis keeps clicks in memory only (no append-only file, no replica): a restart loses "
        "the clicks waiting to be stored; turn on appendonly or add a replica"
    )


def _append_only(client: redis.Redis) -> bool | None:
    try:
        return int(client.info("persistence").get("aof_enabled", 0)) == 1
    except redis.ResponseError:
        pass  # INFO refused or renamed: ask CONFIG
    try:
        return client.config_get("appendonly").get("appendonly") == "yes"
    except redis.ResponseError:
        return None  # a managed Redis that refuses CONFIG too


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


def clicks_store(*, entries: list[tuple[str, dict]]) -> int:
    """Insert a batch of (stream id, event) as clicks under each event's own id (the stream id for an event without
    one); ids already stored are ignored, and so is an id repeated in the batch. Returns how many it kept.

    Every event is checked again here, as the redirect did: its link exists, was minted for the domain it was
    requested on and had not expired, and its message belongs to the link's campaign. The redirect may append
    a click before it has checked the code, so this is what keeps a forged or expired code out of the counts.
    Malformed events are logged and skipped rather than blocking every later click behind them.
    """
    clicks, domains = [], {}
    for stream_id, event in entries:
        entry_id = _event_id_of(event, fallback=stream_id)
        if entry_id in domains:
            continue  # the same click twice in one batch (a repeated XADD): once is enough
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
            "pk",
            "campaign_id",
            "short_domain",
            "expires_at",
            channel=F("campaign__template__channel"),
        )
    }
    message_model = apps.get_model("delivery", "Message")
    campaign_of_message, proofs = {}, set()
    for pk, campaign_id, proof_id in message_model.with_proofs.filter(
        pk__in={c.message_id for c in clicks if c.message_id}
    ).values_list("pk", "campaign_id", "proof_id"):
        campaign_of_message[pk] = campaign_id
        if proof_id:
            proofs.add(pk)
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
        elif click.message_id in proofs:
            problem = "it is a test's (sent from the preview), which no report counts"
        elif link["expires_at"] is not None and click.clicked_at >= link["expires_at"]:
            problem = "its link had expired"
        else:
            click.campaign_id, click.channel = link["campaign_id"], link["channel"]
            storable.append(click)
            continue
        logger.info("not storing click %s on link %s: %s", click.event_id, click.short_link_id, problem)
    with transaction.atomic():
        stored = _insert_new(storable)
        counters_add(counted_of(stored))
    return len(stored)


_CLICK_FIELDS = (
    "event_id",
    "short_link_id",
    "campaign_id",
    "message_id",
    "channel",
    "clicked_at",
    "ip_hash",
    "user_agent",
    "is_bot",
)


def _insert_new(clicks: list[Click]) -> list[Click]:
    """Insert the clicks whose event id is not stored yet; returns those.

    INSERT ... ON CONFLICT DO NOTHING RETURNING names exactly the rows this statement inserted, also when another
    flush stores the same events at the same moment: the second waits for the first and inserts none of them. The
    key is (event_id, clicked_at), as the table is partitioned by month of clicked_at on PostgreSQL; the same click
    always comes with the same time (click_event gives both), so this is the click's id alone.
    """
    inserted = set(
        rows_insert(
            Click,
            _CLICK_FIELDS,
            (tuple(getattr(click, name) for name in _CLICK_FIELDS) for click in clicks),
            unique=("event_id", "clicked_at"),
            returning="event_id",
        )
    )
    return [click for click in clicks if click.event_id in inserted]
