"""Helpers shared by the benchmark scripts (run as `python bench/<name>.py`, so this directory is importable)."""

import argparse
import os
from urllib.parse import urlsplit


def create_database(database_url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres"
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def add_service_arguments(parser: argparse.ArgumentParser) -> None:
    """--database-url and --redis-url of the redirect benchmarks (defaults from BENCH_DATABASE_URL, BENCH_REDIS_URL)."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linktrack_bench"),
        help="PostgreSQL database for the bench data, created if missing (env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis for cache and click stream (env BENCH_REDIS_URL); only keys of this run are written",
    )
