#!/usr/bin/env python
"""CPU per click, in one process: the short-domain front, the Django path and the floor app called as WSGI apps.

No server and no wrk: each app is called directly with the same short-domain request (link cached, real Redis), so
what is measured is only the app's own work per click, steadier on a busy machine than requests/s under load. Also
counts the Redis round trips per click, and with --profile prints where the front's time goes (cProfile). Uses the
same bench data as bench/redirect.py. Run by hand; see bench/README.md.
"""

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path

from common import add_service_arguments, create_database

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="clicks per app and round (default 3000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, the apps in turn (default 5)")
    parser.add_argument("--profile", action="store_true", help="print the front's cProfile (by own time)")
    add_service_arguments(parser)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    run_id = uuid.uuid4().hex[:8]
    stream_key, floor_prefix, floor_stream = (
        f"bench:clicks:{run_id}",
        f"bench:floor:{run_id}:",
        f"bench:floor:clicks:{run_id}",
    )
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CLICK_STREAM_URL": args.redis_url,
            "CLICK_STREAM_KEY": stream_key,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "HASHIDS_SALT": secrets.token_urlsafe(24),
            "LOG_LEVEL": "WARNING",
            "FLOOR_REDIS_URL": args.redis_url,
            "FLOOR_DESTINATION_PREFIX": floor_prefix,
            "FLOOR_STREAM_KEY": floor_stream,
        }
    )
    from redirect import DESTINATION, PHONE_UA, SHORT_DOMAIN, seed

    os.environ["ALLOWED_HOSTS"] = f"127.0.0.1,localhost,{SHORT_DOMAIN}"
    create_database(args.database_url)
    sys.path.insert(0, str(ROOT))
    code = seed()

    import redis
    import redis.connection

    from bench import floor_app
    from linktrack import wsgi

    stream = redis.Redis.from_url(args.redis_url)
    stream.set(floor_prefix + code, DESTINATION)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/{code}",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8101",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": SHORT_DOMAIN,
        "HTTP_USER_AGENT": PHONE_UA,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    apps = {"front": wsgi.application, "django": wsgi.django_application, "floor": floor_app.application}

    def click(app) -> str:
        statuses = []
        body = app(dict(environ), lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return statuses[0]

    # Round trips: each pipeline or single command sends its packed commands once.
    sends = [0]
    send_packed_command = redis.connection.AbstractConnection.send_packed_command

    def counted_send(self, command, check_health=True):
        sends[0] += 1
        return send_packed_command(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = counted_send
    try:
        for name, app in apps.items():
            status = click(app)  # warm-up: the link cached, the short domains read
            if not status.startswith("302"):
                sys.exit(f"{name} answered {status}, not a redirect")
            sends[0] = 0
            click(app)
            print(f"{name}: {sends[0]} Redis round trip(s) per click")
    finally:
        redis.connection.AbstractConnection.send_packed_command = send_packed_command

    per_click = {name: [] for name in apps}
    try:
        for _ in range(args.rounds):
            for name, app in apps.items():
                started = time.process_time()
                for _ in range(args.requests):
                    click(app)
                per_click[name].append((time.process_time() - started) / args.requests * 1e6)
        print(f"\nCPU per click, us ({args.rounds} rounds of {args.requests} clicks, median [min-max]):")
        for name, values in per_click.items():
            print(f"  {name:8}{statistics.median(values):7.0f}  [{min(values):.0f}-{max(values):.0f}]")
        floor = statistics.median(per_click["floor"])
        for name in ("front", "django"):
            print(f"  {name} / floor: {statistics.median(per_click[name]) / floor:.2f}")
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(args.requests):
                click(apps["front"])
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    finally:
        stream.delete(stream_key, floor_stream, floor_prefix + code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
