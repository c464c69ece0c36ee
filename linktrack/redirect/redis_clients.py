"""The Redis clients of the redirect path: the link cache and the click stream (often the same server)."""

from functools import lru_cache

import redis


@lru_cache(maxsize=4)
def redis_client(url: str) -> redis.Redis:
    # One client (and connection pool) per URL and process; short timeouts so an outage falls back quickly.
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5)
