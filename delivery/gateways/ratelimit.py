"""A send rate per gateway (messages per second), shared by every worker through Redis.

Each send takes the next free slot: a slot is 1/rate seconds long and the "next free slot" time lives in one
Redis key, moved atomically by a Lua script using Redis's own clock, so workers on different machines (and clocks)
never exceed the rate together. Without Redis the limit holds per process.
"""

import threading
import time

import redis

_NEXT_SLOT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local next_slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_slot < now then next_slot = now end
redis.call('SET', KEYS[1], string.format('%.6f', next_slot + tonumber(ARGV[1])), 'PX', 60000)
return string.format('%.6f', next_slot - now)
"""

_local_lock = threading.Lock()
_local_next_slot: dict[str, float] = {}
_clients: dict[str, redis.Redis] = {}


class RateLimiter:
    def __init__(self, *, key: str, per_second: float, redis_url: str = ""):
        self.key = f"delivery:rate:{key}"
        self.interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self.redis_url = redis_url

    def wait(self) -> float:
        """Block until this send may go; returns the seconds waited."""
        if not self.interval:
            return 0.0
        delay = self._reserve_redis() if self.redis_url else self._reserve_local()
        if delay > 0:
            time.sleep(delay)
        return delay

    def _reserve_redis(self) -> float:
        client = _clients.get(self.redis_url)
        if client is None:
            client = _clients[self.redis_url] = redis.Redis.from_url(self.redis_url)
        return float(client.eval(_NEXT_SLOT, 1, self.key, f"{self.interval:.6f}"))

    def _reserve_local(self) -> float:
        with _local_lock:
            now = time.monotonic()
            slot = max(now, _local_next_slot.get(self.key, 0.0))
            _local_next_slot[self.key] = slot + self.interval
            return slot - now
