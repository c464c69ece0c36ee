"""The floor for the redirect benchmark: the least a tracked redirect can do.

One pipelined Redis round trip (GET the destination, XADD the click), then a 302. No framework, no code
decoding, no validation, no bot detection: whatever the project's redirect costs above this is its own
overhead. Served by gunicorn exactly like the project:

    FLOOR_REDIS_URL=redis://127.0.0.1:6379/0 gunicorn bench.floor_app:application
"""

import os
import time

import redis

_redis = redis.Redis.from_url(os.environ.get("FLOOR_REDIS_URL", "redis://127.0.0.1:6379/0"))
_DESTINATION_PREFIX = os.environ.get("FLOOR_DESTINATION_PREFIX", "bench:floor:destination:")
_STREAM = os.environ.get("FLOOR_STREAM_KEY", "bench:floor:clicks")


def application(environ, start_response):
    code = environ.get("PATH_INFO", "/").lstrip("/")
    pipe = _redis.pipeline(transaction=False)
    pipe.get(_DESTINATION_PREFIX + code)
    pipe.xadd(
        _STREAM,
        {
            "code": code,
            "at": f"{time.time():.6f}",
            "ip": environ.get("REMOTE_ADDR", ""),
            "ua": environ.get("HTTP_USER_AGENT", "")[:500],
            "method": environ.get("REQUEST_METHOD", "GET"),
        },
    )
    destination, _ = pipe.execute()
    if destination is None:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"not found"]
    start_response(
        "302 Found",
        [("Location", destination.decode()), ("Cache-Control", "private, no-store"), ("Content-Length", "0")],
    )
    return [b""]
