"""The Redis clients of the redirect path: the link cache and the click stream (often the same server), and the
per-process pause after a failure that keeps an outage from slowing every click."""

import os
import threading
import time
from functools import lru_cache

import hiredis
import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry


@lru_cache(maxsize=4)
def redis_client(url: str) -> redis.Redis:
    # One client (and connection pool) per URL and process; short timeouts so an outage falls back quickly. No
    # retries: a click must not wait for them, and a command retried on a stalled server would run twice when it
    # wakes (the click's own id makes that harmless, the wait is not).
    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )


def round_trip(client: redis.Redis, *commands: tuple) -> list:
    """The replies to `commands`, sent in one write and read back in order, as a pipeline without a transaction does,
    on a connection this thread keeps for `client`. Without the pipeline's bookkeeping and the pool's (its lock and
    usage counters), which together cost a click about a third of its CPU. Any error closes the connection, so no
    reply is left unread for the next command on it."""
    connection = _connection_of(client)
    try:
        connection.connect()  # when not connected yet
        if _stale(connection):
            connection.disconnect()
        # redis-py packs commands with hiredis too when it is installed (it is a dependency of this project)
        connection.send_packed_command([b"".join(hiredis.pack_command(command) for command in commands)])
        return [connection.read_response() for _ in commands]
    except BaseException:
        connection.disconnect()
        raise


def _stale(connection: redis.connection.AbstractConnection) -> bool:
    """Closed by the server (can_read raises then) or with a reply left unread: to be replaced, as redis-py's pool
    replaces such a connection before handing it out."""
    try:
        return connection.can_read()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return True


# This thread's connection for round_trip, and the client it is of: (client, connection). A process has one such
# client (the link cache's and click stream's Redis); one of another client replaces it.
_this_thread = threading.local()


def _forget_connection() -> None:
    _this_thread.__dict__.clear()  # a forked process opens its own: the socket is its parent's


os.register_at_fork(after_in_child=_forget_connection)


def _connection_of(client: redis.Redis) -> redis.connection.AbstractConnection:
    held = getattr(_this_thread, "held", None)
    if held is None or held[0] is not client:
        if held is not None:
            held[1].disconnect()
        pool = client.connection_pool
        held = _this_thread.held = (client, pool.connection_class(**pool.connection_kwargs))
    return held[1]


# When each Redis failed last (time.monotonic()), per URL; read and written without a lock: a race costs one more try.
_failed_at: dict[str, float] = {}


def redis_usable(url: str) -> bool:
    """False for CLICK_STREAM_RETRY_SECONDS after a command to this Redis failed: the redirect then goes without it
    (clicks stored directly, links read from the database) instead of waiting for the timeout on every click."""
    failed_at = _failed_at.get(url)
    return failed_at is None or time.monotonic() - failed_at >= settings.CLICK_STREAM_RETRY_SECONDS


def redis_failed(url: str) -> None:
    _failed_at[url] = time.monotonic()


def redis_failures_forget() -> None:
    """Try every Redis again on the next click (tests)."""
    _failed_at.clear()
