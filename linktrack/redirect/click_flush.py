"""The click flush: clicks read from the Redis stream in batches and stored with their counters (clicks_store), by
any number of flushers at once (clicks_flush_task on several worker processes).

Flushers read the stream as one Redis consumer group: XREADGROUP hands each entry to one flusher, so two flushers
share the work instead of both storing the same batch. A flusher acknowledges and deletes a batch's entries (XACK
and XDEL in one MULTI) only after the batch is committed. Entries a flusher read and did not acknowledge stay
pending under its name: it takes them up first on its next run (its run failed), or, once they have waited
CLICK_FLUSH_CLAIM_SECONDS (it died), another flusher claims them (XAUTOCLAIM). A batch stored twice (a flusher that
was only slow, or died between the commit and the acknowledgement) is stored and counted once: the insert passes
over an event id already stored.

A consumer group rather than a lease (one flusher at a time): with a lease the second flusher only waits, so two
workers flush no faster than one, and a flusher that dies holding it stops every flush until the lease runs out;
with the group both flushers store clicks, and only the dead one's batch waits to be claimed.
"""

import os
import socket
import threading
from functools import lru_cache

import redis
from django.conf import settings

from linktrack.redirect.clicks import clicks_store

GROUP = "flushers"
# Flushers that have read nothing for a day and hold nothing are forgotten (each worker process or thread is one name), in
# one step on the server, so a flusher cannot read entries between the check and the removal.
IDLE_FLUSHER_MS = 24 * 3600 * 1000
_FORGET_IDLE_FLUSHERS = """
local forgotten = 0
for _, flusher in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local about = {}
  for i = 1, #flusher, 2 do about[flusher[i]] = flusher[i + 1] end
  if about['pending'] == 0 and about['idle'] > tonumber(ARGV[2]) and about['name'] ~= ARGV[3] then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], about['name'])
    forgotten = forgotten + 1
  end
end
return forgotten
"""


@lru_cache(maxsize=4)
def _click_stream(url: str) -> redis.Redis:
    """The flush's own client: unlike the redirect's (0.5 s, no retries, so a click never waits), it waits for a busy
    Redis, since a flusher that gives up leaves its batch pending until it runs again."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=30, socket_connect_timeout=5)


def flusher_name() -> str:
    """This flusher's name in the consumer group: its machine, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_native_id()}"


def clicks_flush(*, batch_size: int | None = None, max_batches: int = 100) -> int:
    """Store clicks from the stream in batches; returns how many stream entries this flusher handled.

    First the entries this flusher read before and did not acknowledge, then those another flusher left waiting
    longer than CLICK_FLUSH_CLAIM_SECONDS, then new ones."""
    if not settings.CLICK_STREAM_URL:
        return 0
    stream = _click_stream(settings.CLICK_STREAM_URL)
    key, name = settings.CLICK_STREAM_KEY, flusher_name()
    batch_size = batch_size or settings.CLICK_FLUSH_BATCH
    _group_create(stream, key)
    stream.eval(_FORGET_IDLE_FLUSHERS, 1, key, GROUP, IDLE_FLUSHER_MS, name)
    own_pending, claim_from = True, "0-0"
    handled = 0
    for _ in range(max_batches):
        entries = []
        if own_pending:
            entries = _read(stream, key, name, batch_size, start="0")
            own_pending = bool(entries)
        if not entries and claim_from is not None:
            claim_from, entries = _claim(stream, key, name, batch_size, start=claim_from)
        if not entries:
            entries = _read(stream, key, name, batch_size, start=">")
        if not entries:
            break
        # An entry deleted while pending (by an older flush that read with XRANGE) has no fields: nothing to store.
        clicks_store(entries=[(entry_id, event) for entry_id, event in entries if event])
        _done(stream, key, [entry_id for entry_id, _ in entries])
        handled += len(entries)
    return handled


def _group_create(stream: redis.Redis, key: str) -> None:
    """The flushers' group, reading the stream from its start (entries appended before it existed included)."""
    try:
        stream.xgroup_create(key, GROUP, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def _read(stream: redis.Redis, key: str, name: str, count: int, *, start: str) -> list:
    """Entries for this flusher: ">" new ones, "0" those it read before and did not acknowledge."""
    answer = stream.xreadgroup(GROUP, name, {key: start}, count=count)
    return answer[0][1] if answer else []


def _claim(stream: redis.Redis, key: str, name: str, count: int, *, start: str) -> tuple[str | None, list]:
    """Entries other flushers read more than CLICK_FLUSH_CLAIM_SECONDS ago and did not acknowledge, from `start`;
    and where to go on from (None: the pending entries have all been looked at)."""
    idle_ms = int(settings.CLICK_FLUSH_CLAIM_SECONDS * 1000)
    following, entries, *_deleted = stream.xautoclaim(key, GROUP, name, idle_ms, start_id=start, count=count)
    return (None if following == "0-0" else following), entries


def _done(stream: redis.Redis, key: str, entry_ids: list[str]) -> None:
    pipe = stream.pipeline(transaction=True)
    pipe.xack(key, GROUP, *entry_ids)
    pipe.xdel(key, *entry_ids)
    pipe.execute()
