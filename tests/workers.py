"""Real Celery worker processes on this machine, against the test database (PostgreSQL), Redis (cache, send
rates) and a broker: Redis, or RabbitMQ in a virtual host of the test run's own."""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.db import connection
from kombu import pools

from linktrack.celery import app as celery_app
from tests.services import missing

ROOT = Path(__file__).resolve().parent.parent
WORKER_APPLICATION_NAME = "linktrack-test-worker"
RABBITMQ_ADDRESS = ("127.0.0.1", 5672)


def _rabbitmqctl(*args: str) -> None:
    result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        missing(f"rabbitmqctl {args[0]} ({result.stderr.strip() or result.stdout.strip()})")


@contextmanager
def rabbitmq_virtual_host() -> Iterator[str]:
    """A RabbitMQ virtual host of this test run's own, removed at the end; yields its broker URL. Queues live in a
    virtual host, so test runs side by side (or a worker left over from another run) never take each other's
    tasks."""
    try:
        socket.create_connection(RABBITMQ_ADDRESS, timeout=2).close()
    except OSError:
        missing(f"RabbitMQ at {RABBITMQ_ADDRESS[0]}:{RABBITMQ_ADDRESS[1]}")
    if not shutil.which("rabbitmqctl"):
        missing("rabbitmqctl (to make the test run's virtual host)")
    name = f"linktrack-test-{os.getpid()}-{secrets.token_hex(3)}"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        # at the end of the run: a virtual host left behind takes no tasks from anyone
        subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True, timeout=120)


@contextmanager
def tasks_queued_on(broker_url: str) -> Iterator[None]:
    """This process queues its tasks on `broker_url` until the block ends. Celery reads CELERY_BROKER_URL from the
    environment before its own setting; its pooled connections to the broker it used before are closed."""

    def connections_drop() -> None:
        pools.reset()  # kombu's pools of connections and producers, closed and forgotten
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    before = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    connections_drop()
    try:
        yield
    finally:
        connections_drop()
        if before is None:
            del os.environ["CELERY_BROKER_URL"]
        else:
            os.environ["CELERY_BROKER_URL"] = before


def forget_unacked_tasks(redis_url: str) -> None:
    """A killed worker leaves its reserved tasks in the broker's unacked set; they must not leak into other tests."""
    client = redis.Redis.from_url(redis_url)
    client.delete("unacked", "unacked_index", "unacked_mutex")


class Workers:
    def __init__(self, redis_url: str, broker_url: str):
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
            f"?application_name={WORKER_APPLICATION_NAME}",
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": broker_url,
            "SIMULATED_RECEIPT_DELAY_SECONDS": "0.5",
            "SIMULATED_GATEWAY_MIX": "delivered:80,undeliverable:10,expired:10",
            "DISPATCH_BATCH_SIZE": "20",
            # the tests' gateways (HTTP, SMPP, SMTP) listen on 127.0.0.1
            "GATEWAY_ALLOW_PRIVATE_ADDRESSES": "true",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, *args: str, name: str = "") -> subprocess.Popen:
        """A worker process; one given a `name` is its node name, and its database sessions' application_name
        ends with it, so PostgreSQL can tell which worker made a change (see the handover_log fixture)."""
        env = dict(self.env)
        if name:
            args = (*args, "-n", f"{name}@%h")
            env["DATABASE_URL"] = env["DATABASE_URL"].replace(
                f"application_name={WORKER_APPLICATION_NAME}", f"application_name={WORKER_APPLICATION_NAME}-{name}"
            )
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "linktrack", "worker", "--loglevel=WARNING", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, so a kill reaches the pool's children too
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            process.terminate()  # the main process: a warm shutdown of its pool
            try:
                output, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                output, _ = process.communicate(timeout=10)
            print(output)


def status_changes_by_worker(status: str) -> dict[str, int]:
    """How many messages changed to `status` in each worker's database sessions (by application_name)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT changed_by, count(*) FROM test_handover_log WHERE status = %s GROUP BY changed_by", [status]
        )
        return dict(cursor.fetchall())


def status_changes(status: str) -> dict[int, int]:
    """How many times each message changed to `status`, from the log of the handover_log fixture."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT message_id, count(*) FROM test_handover_log WHERE status = %s GROUP BY message_id", [status]
        )
        return dict(cursor.fetchall())
