"""Real Celery worker processes on this machine, against the test database (PostgreSQL) and Redis."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import redis
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
WORKER_APPLICATION_NAME = "linktrack-test-worker"


def forget_unacked_tasks(redis_url: str) -> None:
    """A killed worker leaves its reserved tasks in the broker's unacked set; they must not leak into other tests."""
    client = redis.Redis.from_url(redis_url)
    client.delete("unacked", "unacked_index", "unacked_mutex")


class Workers:
    def __init__(self, redis_url: str):
        database = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
            f"?application_name={WORKER_APPLICATION_NAME}",
            "REDIS_URL": redis_url,
            "SIMULATED_RECEIPT_DELAY_SECONDS": "0.5",
            "SIMULATED_GATEWAY_MIX": "delivered:80,undeliverable:10,expired:10",
            "DISPATCH_BATCH_SIZE": "20",
            # the tests' gateways (HTTP, SMPP, SMTP) listen on 127.0.0.1
            "GATEWAY_ALLOW_PRIVATE_ADDRESSES": "true",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "linktrack", "worker", "--loglevel=WARNING", *args],
            cwd=ROOT,
            env=self.env,
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
