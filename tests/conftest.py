import contextlib
import io
import os
import shutil
import threading
import time

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from hypothesis import settings as hypothesis_settings

from campaigns.lifecycle import services as campaign_services
from campaigns.management.commands.receive_bounces import Command as ReceiveBounces
from campaigns.models import Campaign, Customer, Org, SenderId, Template, User
from campaigns.sending import link_check
from linktrack.celery import app as celery_app
from linktrack.redirect import redis_clients, short_domains
from tests.factories import (
    LINK_SLOTS,
    OrgFactory,
    SenderIdFactory,
    TemplateFactory,
    UserFactory,
    make_customers,
)
from tests.helpers import BOUNCE_DOMAIN, Clock, launch
from tests.local_peers import free_port, running_http_gateway, wait_until_listening
from tests.services import REQUIRE_SERVICES, missing
from tests.workers import (
    WORKER_APPLICATION_NAME,
    Workers,
    forget_unacked_tasks,
    rabbitmq_virtual_host,
    tasks_queued_on,
)

# CI (REQUIRE_SERVICES=1) runs the property tests on the same examples every time, so a submission is judged on what
# it changed; elsewhere each run tries new ones, which is how they find what nobody thought of.
hypothesis_settings.register_profile("ci", derandomize=True)
if REQUIRE_SERVICES:
    hypothesis_settings.load_profile("ci")

CHROMIUM = "/usr/bin/chromium"
# A test that uses one of these fixtures (itself or through another fixture) needs a real service: it gets the
# service's marker, so `-m "not postgres"` leaves it out and `-m postgres` runs exactly those that need PostgreSQL.
SERVICE_MARKERS = {
    "postgres": "postgres",
    "redis_url": "redis",
    "rabbitmq_url": "rabbitmq",
    "browser_page": "browser",
    "chromium": "browser",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("broker") == "rabbitmq":
            used.add("rabbitmq_url")
        for fixture, marker in SERVICE_MARKERS.items():
            if fixture in used and item.get_closest_marker(marker) is None:
                item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def _tasks_run_in_process():
    """Tests call tasks in-process, each in the call that queued it (not on a background thread, as the embedded
    mode does), so what a test sees right after is deterministic; the real-worker test switches this off for itself,
    the embedded mode's tests turn the background threads on for themselves."""
    celery_app.conf.task_always_eager = True
    django_settings.TASKS_IN_BACKGROUND_THREAD = False
    yield


@pytest.fixture(autouse=True)
def _clean_cache(settings, monkeypatch):
    settings.CLICK_STREAM_URL = ""  # clicks stored synchronously unless a test asks for the Redis stream
    redis_clients.redis_failures_forget()  # no Redis left alone after another test's failure
    cache.clear()
    # Each test starts with no short domain known and freshly loaded, so the host-routing middleware does not
    # re-read the orgs' domains (a query) at a moment that depends on the clock; saving an org invalidates it.
    monkeypatch.setattr(short_domains, "_short_domains", (time.monotonic(), frozenset()))
    yield


@pytest.fixture(autouse=True)
def _link_checks_stay_off_the_internet(request, monkeypatch):
    """The preview page checks a campaign's links over the network; only the link-check tests (against their own
    local server, in the modules test_link_check*.py) do that for real, so no other test depends on what the
    internet answers or waits for it."""
    if request.module.__name__.rpartition(".")[2].startswith("test_link_check"):
        return

    def offline(url: str, **_options) -> link_check.LinkCheck:
        return link_check.LinkCheck(url=url, verdict=link_check.Verdict.NOT_CHECKED, words="not checked in tests")

    monkeypatch.setattr(link_check, "link_fetch", offline)


# --- Real services --------------------------------------------------------------------------------------------


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        missing("PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def redis_url() -> str:
    url = django_settings.REDIS_URL or os.environ.get("REDIS_URL", "")
    if not url:
        missing("Redis (REDIS_URL)")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        missing(f"Redis at {url}")
    return url


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


@contextlib.contextmanager
def chromium_running():
    """The system Chromium, driven by Playwright (its own browser download does not exist here); closed after."""
    if not shutil.which(CHROMIUM):
        missing(f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are not async code.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield browser
            browser.close()


@pytest.fixture
def browser_page():
    """A page in a Chromium of its own."""
    with chromium_running() as browser:
        yield browser.new_page(accept_downloads=True)


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the tests of a module, each opening its own contexts (pages with their own cookies)."""
    with chromium_running() as browser:
        yield browser


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """RabbitMQ on this machine, in a virtual host of this test run's own."""
    with rabbitmq_virtual_host() as url:
        yield url


@pytest.fixture
def broker(request) -> str:
    """The Celery broker of a test's worker processes and of the test itself: Redis, unless the test is
    parametrized with `broker` "rabbitmq" (indirect)."""
    kind = getattr(request, "param", "redis")
    return request.getfixturevalue({"redis": "redis_url", "rabbitmq": "rabbitmq_url"}[kind])


@pytest.fixture
def workers(postgres, redis_url, broker, transactional_db):
    """Real Celery worker processes (started by the test) on PostgreSQL, Redis and the broker; stopped after the
    test."""
    celery_app.conf.task_always_eager = False
    with tasks_queued_on(broker):
        celery_app.control.purge()
        forget_unacked_tasks(redis_url)
        running = Workers(redis_url, broker)
        yield running
        running.stop_all()
        # A SIGKILLed worker's database sessions linger until the server notices; end them (and only them) so the
        # test database can be dropped.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name LIKE %s",
                [f"{WORKER_APPLICATION_NAME}%"],
            )
        celery_app.control.purge()
        forget_unacked_tasks(redis_url)
    celery_app.conf.task_always_eager = True


@pytest.fixture
def handover_log(postgres, transactional_db):
    """Every change of a message's status (to "submitting", claimed for the gateway; to "sent"; to its outcome), and
    the application_name of the session that made it, written by PostgreSQL whichever process made it; read with
    tests.workers.status_changes and status_changes_by_worker."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE test_handover_log (message_id bigint NOT NULL, status text NOT NULL, changed_by text);
            CREATE FUNCTION test_log_handover() RETURNS trigger AS $$
            BEGIN
                IF NEW.status IS DISTINCT FROM OLD.status THEN
                    INSERT INTO test_handover_log (message_id, status, changed_by)
                        VALUES (NEW.id, NEW.status, current_setting('application_name'));
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_log_handover AFTER UPDATE ON delivery_message
                FOR EACH ROW EXECUTE FUNCTION test_log_handover();
            """
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS test_log_handover ON delivery_message; "
            "DROP FUNCTION IF EXISTS test_log_handover(); DROP TABLE IF EXISTS test_handover_log;"
        )


# --- The org, its people, its sender and template, its customers ----------------------------------------------


@pytest.fixture
def org(db) -> Org:
    return OrgFactory(name="Acme Retail", sms_link_tracking=True, credits=10_000)


@pytest.fixture
def other_org(db) -> Org:
    return OrgFactory(name="Other Brand", sms_link_tracking=True, credits=10_000)


@pytest.fixture
def manager(org) -> User:
    return UserFactory(email="manager@acme.test", member_of=org)


@pytest.fixture
def outsider(other_org) -> User:
    return UserFactory(email="manager@other.test", member_of=other_org)


@pytest.fixture
def support(db) -> User:
    return UserFactory(email="support@linktrack.test", is_staff=True)


@pytest.fixture
def sender(org) -> SenderId:
    return SenderIdFactory(
        org=org,
        header="ACMERT",
        category=SenderId.Category.SERVICE_IMPLICIT,
        dlt_entity_id="1701160000000000001",
    )


@pytest.fixture
def template(org, sender) -> Template:
    return TemplateFactory(
        org=org,
        name="Order shipped",
        sender=sender,
        dlt_template_id="1707160000000000001",
        body="Hi {#var#}, your order has shipped. Track it: {#var#} - Acme",
    )


@pytest.fixture
def customers(org) -> list[Customer]:
    return make_customers(org, 10)


# --- Sending --------------------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The dispatcher's clock, at 23 November 2026, 12:00 in India until the test moves it."""
    return Clock(monkeypatch)


@pytest.fixture
def http_gateway(settings):
    """A fake HTTP SMS gateway on this machine (tests.local_peers.FakeHttpGateway)."""
    settings.GATEWAY_ALLOW_PRIVATE_ADDRESSES = True  # it listens on 127.0.0.1
    with running_http_gateway() as fake:
        yield fake


@pytest.fixture
def send_campaign(template, manager, django_capture_on_commit_callbacks):
    """Create and launch a campaign of the org's template to its customers; returns it."""

    def send(name: str = "Delivery test", slot_values=None, use_template=None) -> Campaign:
        chosen = use_template or template
        campaign = campaign_services.campaign_create(
            org=chosen.org,
            user=manager,
            name=name,
            template=chosen,
            slot_values=slot_values if slot_values is not None else LINK_SLOTS,
        )
        return launch(campaign, manager, django_capture_on_commit_callbacks)

    return send


# --- Email bounces ----------------------------------------------------------------


@pytest.fixture
def bounce_domain(settings) -> str:
    settings.EMAIL_BOUNCE_DOMAIN = BOUNCE_DOMAIN
    return BOUNCE_DOMAIN


@pytest.fixture
def bounce_server(bounce_domain):
    """`manage.py receive_bounces` running in a thread on a free loopback port; yields its port."""
    port = free_port()
    command, output = ReceiveBounces(), io.StringIO()
    thread = threading.Thread(
        target=call_command, args=(command,), kwargs={"host": "127.0.0.1", "port": port, "stdout": output}
    )
    thread.start()
    wait_until_listening(port)
    yield port
    command.stop()
    thread.join()
    assert "Receiving bounces and unsubscribes for bounces.acme.test on 127.0.0.1:" in output.getvalue()
