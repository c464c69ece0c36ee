"""Real services some tests need (PostgreSQL, Redis, Chromium, openssl): without one, such a test is skipped, or
fails when REQUIRE_SERVICES=1 (CI, where every service is there and a skip would hide a test that never runs)."""

import os

import pytest

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def missing(what: str) -> None:
    """A test that needs a real service fails in CI (REQUIRE_SERVICES=1) and is skipped elsewhere."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available; set REQUIRE_SERVICES=1 to make this a failure")
