#!/usr/bin/env python
"""Benchmark the short-link redirect: the project under gunicorn against the floor app, with wrk.

Creates its own data (an org with a short domain, a campaign, a recipient, a tracked link) in a bench database,
serves the project with gunicorn on PostgreSQL + Redis, runs wrk against the recipient's short URL, then does
the same for bench/floor_app.py (one pipelined Redis round trip and a 302), and prints both and their ratio.
Run by hand, not in the test suite; see bench/README.md.
"""

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import add_service_arguments, create_database

ROOT = Path(__file__).resolve().parent.parent
SHORT_DOMAIN = "s.bench.test"
DESTINATION = "https://shop.bench.test/diwali?ref=sms"
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
    "Mobile Safari/537.36"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=30, help="seconds of wrk per target (default 30)")
    parser.add_argument("--rounds", type=int, default=1, help="project/floor runs, alternating (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=64, help="wrk open connections (default 64)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers for each app (default: CPUs)"
    )
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (default sync)")
    parser.add_argument("--port", type=int, default=8101, help="port of the project (default 8101)")
    parser.add_argument("--floor-port", type=int, default=8102, help="port of the floor app (default 8102)")
    parser.add_argument(
        "--django-port",
        type=int,
        default=8103,
        help="port of the project's Django path alone, without the short-domain front (default 8103)",
    )
    add_service_arguments(parser)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    run_id = uuid.uuid4().hex[:8]
    stream_key = f"bench:clicks:{run_id}"
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CLICK_STREAM_URL": args.redis_url,
        "CLICK_STREAM_KEY": stream_key,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "HASHIDS_SALT": secrets.token_urlsafe(24),
        "ALLOWED_HOSTS": f"127.0.0.1,localhost,{SHORT_DOMAIN}",
        "LOG_LEVEL": "WARNING",
    }
    create_database(args.database_url)
    os.environ.update(env)  # this process seeds with the same settings the server runs with
    sys.path.insert(0, str(ROOT))
    code = seed()

    import redis

    stream = redis.Redis.from_url(args.redis_url)
    path = f"/{code}"
    print(f"short URL: {SHORT_DOMAIN}{path} -> {DESTINATION} (served at 127.0.0.1:{args.port})")
    print(
        f"wrk: {args.duration}s, {args.threads} threads, {args.connections} connections; "
        f"gunicorn: {args.workers} {args.worker_class} workers; CPUs: {os.cpu_count()}\n"
    )

    rounds = run_rounds(args, env, run_id, code, stream, stream_key)

    for number, results in enumerate(rounds, start=1):
        if len(rounds) > 1:
            print(f"round {number}")
        print_results(results)
    if len(rounds) > 1:
        ratios = sorted(r["project"]["rps"] / r["floor"]["rps"] for r in rounds)
        print(f"median project / floor throughput over {len(rounds)} rounds: {ratios[len(ratios) // 2]:.2f}")
        p99s = sorted(r["project"]["percentiles"][99] / r["floor"]["percentiles"][99] for r in rounds)
        print(f"median project / floor p99 over {len(rounds)} rounds: {p99s[len(p99s) // 2]:.2f}")
    return 0


def run_rounds(args: argparse.Namespace, env: dict, run_id: str, code: str, stream, stream_key: str) -> list[dict]:
    """The project and the floor served side by side, wrk against each in turn, round after round."""
    path = f"/{code}"
    floor_prefix, floor_stream = f"bench:floor:{run_id}:", f"bench:floor:clicks:{run_id}"
    stream.set(floor_prefix + code, DESTINATION)
    floor_env = {
        **env,
        "FLOOR_REDIS_URL": args.redis_url,
        "FLOOR_DESTINATION_PREFIX": floor_prefix,
        "FLOOR_STREAM_KEY": floor_stream,
    }
    rounds: list[dict] = []
    try:
        # Both servers stay up and the runs alternate, so load that drifts during the run hits both alike.
        with (
            gunicorn("linktrack.wsgi:application", args, args.port, env) as project,
            gunicorn("linktrack.wsgi:django_application", args, args.django_port, env) as django_path,
            gunicorn("bench.floor_app:application", args, args.floor_port, floor_env) as floor,
        ):
            check_redirect(args.port, path)
            check_redirect(args.django_port, path)
            check_redirect(args.floor_port, path)
            for number in range(1, args.rounds + 1):
                results = {}
                for name, server in (("project", project), ("django", django_path), ("floor", floor)):
                    print(f"--- round {number} of {args.rounds}: {name}")
                    results[name] = run_wrk(args, server, path)
                rounds.append(results)
        check_clicks(args, rounds, stream, stream_key)
    finally:
        stream.delete(stream_key, floor_stream, floor_prefix + code)

    return rounds


def check_clicks(args: argparse.Namespace, rounds: list[dict], stream, stream_key: str) -> None:
    """Flush the stream as beat would, then compare what was stored and counted with the redirects wrk got."""
    from campaigns.models import Campaign
    from linktrack.counts.click_counts import click_counts
    from linktrack.models import Click
    from linktrack.redirect.click_flush import clicks_flush

    campaign = Campaign.objects.get(name="Bench campaign", org__name="Bench brand")
    stored_before = Click.objects.filter(campaign=campaign).count()
    counted_before = click_counts(campaign_id=campaign.pk).total
    on_stream = stream.xlen(stream_key)
    started = time.perf_counter()
    while clicks_flush():
        pass
    flushed_in = time.perf_counter() - started
    stored = Click.objects.filter(campaign=campaign).count() - stored_before
    counted = click_counts(campaign_id=campaign.pk).total - counted_before
    answered = sum(r[name]["requests"] - r[name]["non_redirects"] for r in rounds for name in ("project", "django"))
    # Two warm-up clicks, and at most one request per connection answered as wrk stopped and not counted by it.
    slack = 2 + 2 * args.connections * len(rounds)
    verdict = "ok" if stored == counted == on_stream and answered <= stored <= answered + slack else "WRONG"
    print(
        f"clicks: {answered} redirects answered to wrk (project and Django path), {on_stream} on the stream, "
        f"{stored} stored and {counted} counted after the flush ({flushed_in:.1f} s, {on_stream / flushed_in:,.0f} "
        f"clicks/s): {verdict} (each stored and counted once; the stream may hold up to {slack} more than wrk "
        "counted: the warm-up clicks and those answered as wrk stopped)\n"
    )


def seed() -> str:
    """The bench data (created once, reused by later runs); returns the recipient's short code."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linktrack.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from campaigns.models import Campaign, Customer, Org, SenderId, Template
    from delivery.models import Message
    from linktrack import services
    from linktrack.redirect import codes

    org, _ = Org.objects.get_or_create(
        name="Bench brand", defaults={"short_domain": SHORT_DOMAIN, "sms_link_tracking": True}
    )
    sender, _ = SenderId.objects.get_or_create(
        org=org, header="BENCHX", defaults={"category": "service_implicit", "dlt_entity_id": "1701160000000000009"}
    )
    template, _ = Template.objects.get_or_create(
        org=org, name="Bench", defaults={"sender": sender, "body": "Hi {#var#}, the sale is on: {#var#}"}
    )
    campaign, _ = Campaign.objects.get_or_create(
        org=org, name="Bench campaign", template=template, defaults={"utm_params": {"utm_source": "sms"}}
    )
    customer, _ = Customer.objects.get_or_create(org=org, mobile="+919800000001", defaults={"name": "Bench"})
    message, _ = Message.objects.get_or_create(
        campaign=campaign, customer=customer, defaults={"channel": "sms", "recipient": customer.mobile}
    )
    short_link_id = services.short_links_for(campaign=campaign, destinations=[DESTINATION])[DESTINATION]
    services.short_link_forget(short_link_id=short_link_id)
    return codes.encode(short_link_id, message.pk)


class gunicorn:
    """A gunicorn server for the duration of a `with` block."""

    def __init__(self, app: str, args: argparse.Namespace, port: int, env: dict):
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--log-level",
            "warning",
        ]
        self.port, self.env = port, env

    def __enter__(self):
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn exited with {self.process.returncode}: {' '.join(self.command)}")
            try:
                http.client.HTTPConnection("127.0.0.1", self.port, timeout=1).connect()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        sys.exit(f"gunicorn did not start on port {self.port}")

    def workers_cpu(self) -> float | None:
        """CPU seconds (user and system) its workers have used so far, as Linux counts them; None elsewhere."""
        try:
            with open(f"/proc/{self.process.pid}/task/{self.process.pid}/children") as children:
                workers = children.read().split()
            seconds = 0.0
            for worker in workers:
                with open(f"/proc/{worker}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            return seconds
        except OSError:
            return None

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def check_redirect(port: int, path: str) -> None:
    """One request before timing: it must be the redirect (and it warms the cache)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": SHORT_DOMAIN, "User-Agent": PHONE_UA})
    response = connection.getresponse()
    location = response.getheader("Location", "")
    if response.status != 302 or not location.startswith(DESTINATION):
        sys.exit(f"port {port}{path} answered {response.status} {location!r}, not a redirect to {DESTINATION}")


def run_wrk(args: argparse.Namespace, server: gunicorn, path: str) -> dict:
    """wrk against a server; also the CPU its workers used per request, steadier than requests/s on a shared machine."""
    command = [
        "wrk",
        "--latency",
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{args.duration}s",
        "-H",
        f"Host: {SHORT_DOMAIN}",
        "-H",
        f"User-Agent: {PHONE_UA}",
        f"http://127.0.0.1:{server.port}{path}",
    ]
    cpu_before = server.workers_cpu()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu_after = server.workers_cpu()
    print(output)
    result = parse_wrk(output)
    if cpu_before is not None and cpu_after is not None and result["requests"]:
        result["worker_us"] = (cpu_after - cpu_before) / result["requests"] * 1e6
    return result


def parse_wrk(output: str) -> dict:
    def milliseconds(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]

    percentiles = {
        int(p): milliseconds(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE)
    }
    non_redirects = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "percentiles": percentiles,
        "non_redirects": int(non_redirects.group(1)) if non_redirects else 0,
        "socket_errors": errors.group(1).strip() if errors else "none",
    }


def print_results(results: dict) -> None:
    print(f"{'':10}{'req/s':>10}{'p50 ms':>9}{'p75 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'worker us/req':>15}  errors")
    for name, result in results.items():
        p = result["percentiles"]
        errors = f"{result['non_redirects']} not 3xx, socket errors: {result['socket_errors']}"
        worker = f"{result['worker_us']:.0f}" if "worker_us" in result else "-"
        print(
            f"{name:10}{result['rps']:>10.0f}{p[50]:>9.2f}{p[75]:>9.2f}{p[90]:>9.2f}{p[99]:>9.2f}{worker:>15}  {errors}"
        )
    floor = results["floor"]
    for name in ("project", "django"):
        ratio = results[name]["rps"] / floor["rps"]
        p99 = results[name]["percentiles"][99] / floor["percentiles"][99]
        worker = ""
        if "worker_us" in results[name] and "worker_us" in floor:
            worker = f", worker CPU per request {results[name]['worker_us'] / floor['worker_us']:.2f}x"
        print(
            f"{name} / floor: throughput {ratio:.2f}, p99 {p99:.2f}x{worker} "
            "(targets for the project: >= 0.80, <= 1.25x)"
        )
    print()


if __name__ == "__main__":
    sys.exit(main())
