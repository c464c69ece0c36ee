import os
import shutil
import time

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection

from campaigns.models import Customer, Membership, Org, SenderId, Template, User
from campaigns.sending import link_check
from linktrack.celery import app as celery_app
from linktrack.redirect import short_domains

PASSWORD = "a-long-test-password-1"
CHROMIUM = "/usr/bin/chromium"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _missing(what: str) -> None:
    """A test that needs a real service fails in CI (REQUIRE_SERVICES=1) and is skipped elsewhere."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available; set REQUIRE_SERVICES=1 to make this a failure")


@pytest.fixture(scope="session", autouse=True)
def _tasks_run_in_process():
    """Tests call tasks in-process; the real-worker test switches this off for itself."""
    celery_app.conf.task_always_eager = True
    yield


@pytest.fixture(autouse=True)
def _clean_cache(settings, monkeypatch):
    settings.CLICK_STREAM_URL = ""  # clicks stored synchronously unless a test asks for the Redis stream
    cache.clear()
    # Each test starts with no short domain known and freshly loaded, so the host-routing middleware does not
    # re-read the orgs' domains (a query) at a moment that depends on the clock; saving an org invalidates it.
    monkeypatch.setattr(short_domains, "_short_domains", (time.monotonic(), frozenset()))
    yield


@pytest.fixture(autouse=True)
def _link_checks_stay_off_the_internet(request, monkeypatch):
    """The preview page checks a campaign's links over the network; only the link-check tests (against their own
    local server) do that for real, so no other test depends on what the internet answers or waits for it."""
    if request.module.__name__.endswith("test_link_check"):
        return

    def offline(url: str, **_options) -> link_check.LinkCheck:
        return link_check.LinkCheck(url=url, verdict=link_check.Verdict.NOT_CHECKED, words="not checked in tests")

    monkeypatch.setattr(link_check, "link_fetch", offline)


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        _missing("PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def redis_url() -> str:
    url = django_settings.REDIS_URL or os.environ.get("REDIS_URL", "")
    if not url:
        _missing("Redis (REDIS_URL)")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        _missing(f"Redis at {url}")
    return url


@pytest.fixture
def org(db) -> Org:
    return Org.objects.create(name="Acme Retail", sms_link_tracking=True, credits=10_000)


@pytest.fixture
def other_org(db) -> Org:
    return Org.objects.create(name="Other Brand", sms_link_tracking=True, credits=10_000)


@pytest.fixture
def manager(org) -> User:
    user = User.objects.create_user("manager@acme.test", PASSWORD)
    Membership.objects.create(user=user, org=org)
    return user


@pytest.fixture
def outsider(other_org) -> User:
    user = User.objects.create_user("manager@other.test", PASSWORD)
    Membership.objects.create(user=user, org=other_org)
    return user


@pytest.fixture
def support(db) -> User:
    return User.objects.create_user("support@linktrack.test", PASSWORD, is_staff=True)


@pytest.fixture
def sender(org) -> SenderId:
    return SenderId.objects.create(
        org=org,
        header="ACMERT",
        category=SenderId.Category.SERVICE_IMPLICIT,
        dlt_entity_id="1701160000000000001",
    )


@pytest.fixture
def template(org, sender) -> Template:
    return Template.objects.create(
        org=org,
        name="Order shipped",
        sender=sender,
        dlt_template_id="1707160000000000001",
        body="Hi {#var#}, your order has shipped. Track it: {#var#} - Acme",
    )


def make_customers(org: Org, count: int, **fields) -> list[Customer]:
    return Customer.objects.bulk_create(
        [
            Customer(org=org, name=f"Customer {n}", mobile=f"+91981{n:07d}", external_id=f"C{n}", **fields)
            for n in range(1, count + 1)
        ]
    )


@pytest.fixture
def customers(org) -> list[Customer]:
    return make_customers(org, 10)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Live-server request threads can leave a PostgreSQL session open; end them so the test database drops."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture
def browser_page(monkeypatch):
    """A page in the system Chromium, driven by Playwright (its own browser download does not exist here)."""
    if not shutil.which(CHROMIUM):
        _missing(f"Chromium at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are not async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser.new_page(accept_downloads=True)
        browser.close()
