"""The link cache: what the redirect knows of a short link and of a message, so a click costs no database read.

Redis itself when configured (Django's cache client costs more per call than the round trip here), else Django's
cache (local memory in the embedded mode). Values are JSON in both.
"""

import logging

import redis
from django.conf import settings
from django.core.cache import cache

from linktrack.models import ShortLink
from linktrack.redirect.redis_clients import redis_client, redis_failed, redis_usable

logger = logging.getLogger(__name__)


# The version in the key keeps a deploy that changes LinkTarget from reading the previous shape.
def link_key(short_link_id: int) -> str:
    return f"linktrack:link:v2:{short_link_id}"


def message_key(message_id: int) -> str:
    return f"linktrack:msg:{message_id}"


def keys_for(short_link_id: int, message_id: int) -> list[str]:
    return [link_key(short_link_id), message_key(message_id)] if message_id else [link_key(short_link_id)]


def cache_client() -> redis.Redis | None:
    url = settings.SHORT_LINK_CACHE_URL
    return redis_client(url) if url else None


def cache_get_many(keys: list[str]) -> dict:
    # A cache outage must not take the redirect down: the database answers instead (at once, while the Redis that
    # just failed is left alone).
    url = settings.SHORT_LINK_CACHE_URL
    try:
        if not url:
            return cache.get_many(keys)
        if not redis_usable(url):
            return {}
        return {k: v for k, v in zip(keys, redis_client(url).mget(keys), strict=True) if v is not None}
    except Exception as error:
        if isinstance(error, redis.RedisError):
            redis_failed(url)
        logger.warning("short link cache unavailable", exc_info=True)
        return {}


def cache_set(key: str, value: str) -> None:
    cache_set_many({key: value})


# Keys per pipelined round trip when a campaign's messages are cached.
_SET_CHUNK = 1000


def cache_set_many(values: dict[str, str]) -> None:
    url = settings.SHORT_LINK_CACHE_URL
    try:
        if not url:
            cache.set_many(values, settings.SHORT_LINK_CACHE_SECONDS)
            return
        if not redis_usable(url):
            return
        items = list(values.items())
        for start in range(0, len(items), _SET_CHUNK):
            pipe = redis_client(url).pipeline(transaction=False)
            for key, value in items[start : start + _SET_CHUNK]:
                pipe.set(key, value, ex=settings.SHORT_LINK_CACHE_SECONDS)
            pipe.execute()
    except Exception as error:
        if isinstance(error, redis.RedisError):
            redis_failed(url)
        logger.warning("short link cache unavailable", exc_info=True)


def _cache_delete_many(keys: list[str]) -> None:
    if not keys:
        return
    client = cache_client()
    if client is None:
        cache.delete_many(keys)
    else:
        client.delete(*keys)


def short_link_forget(*, short_link_id: int) -> None:
    """Drop a cached destination after its short link changed."""
    _cache_delete_many([link_key(short_link_id)])


def campaign_links_forget(*, campaign_id: int) -> None:
    """Drop the cached destinations of a campaign's links, after its UTM parameters changed."""
    link_ids = ShortLink.objects.filter(campaign_id=campaign_id).values_list("pk", flat=True)
    _cache_delete_many([link_key(link_id) for link_id in link_ids])
