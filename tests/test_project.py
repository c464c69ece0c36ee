"""The project's wiring: settings safety, demo seed, health check (the compose file: tests/test_compose.py)."""

import io
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from campaigns.customers.attribution import MIN_BUYERS_TO_COMPARE
from campaigns.models import Campaign, CampaignSales, Customer, Transaction, TransactionChange, User
from delivery.reports.delivery_times import delivery_speed
from linktrack import checks
from linktrack.counts.campaign_clicks import click_devices, click_timeline
from linktrack.counts.click_counts import click_counts, click_counts_by_channel

ROOT = Path(__file__).resolve().parent.parent


def test_debug_off_with_placeholder_secrets_is_refused(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.PLACEHOLDER_SECRET_KEY
    settings.HASHIDS_SALT = settings.PLACEHOLDER_HASHIDS_SALT
    assert {e.id for e in checks.placeholder_secrets_check(None)} == {"linktrack.E001", "linktrack.E002"}
    with pytest.raises(SystemCheckError, match="HASHIDS_SALT is the development placeholder"):
        call_command("check")


def test_debug_off_with_real_secrets_passes(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 50
    settings.HASHIDS_SALT = "y" * 30
    assert checks.placeholder_secrets_check(None) == []


def test_debug_off_with_a_loopback_public_address_warns_that_unsubscribe_links_would_be_dead(settings):
    settings.DEBUG = False
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    assert [w.id for w in checks.public_base_url_check(None)] == ["linktrack.W003"]
    settings.PUBLIC_BASE_URL = "https://app.acme.in"
    assert checks.public_base_url_check(None) == []


def test_every_setting_read_from_the_environment_is_documented():
    settings_source = (ROOT / "linktrack" / "settings.py").read_text()
    documented = (ROOT / ".env.example").read_text()
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_source))
    assert names, "no settings found"
    assert sorted(n for n in names if f"{n}=" not in documented) == []


# The seed commits as a script does (its tasks run on commit), hence transactional_db.
def test_seed_demo_is_idempotent(transactional_db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    assert Customer.objects.count() == 200
    assert sorted(Campaign.objects.values_list("template__channel", flat=True)) == ["email", "sms"]
    assert User.objects.filter(email__in=["manager@demo.test", "support@demo.test"]).count() == 2
    assert "A short URL that works: http://127.0.0.1:8000/s/" in out.getvalue()


def test_seeded_short_url_redirects_and_counts(transactional_db, client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    url = out.getvalue().split("A short URL that works: ")[1].split()[0]
    campaign = Campaign.objects.get(template__channel="sms")
    before = click_counts(campaign_id=campaign.pk).total
    response = client.get(url.removeprefix("http://127.0.0.1:8000"), HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert response.status_code == 302 and response["Location"] == "https://demo-brand.example/track"
    assert click_counts(campaign_id=campaign.pk).total == before + 1


def test_seeded_demo_reports_clicks_on_both_channels(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    org = Campaign.objects.get(template__channel="email").org

    by_channel = click_counts_by_channel(org_id=org.pk)

    assert by_channel.keys() == {"sms", "email"}
    assert all(counts.unique > 0 for counts in by_channel.values())


def test_seeded_demo_campaign_reads_as_sent_yesterday_with_clicks_over_the_hours_on_several_devices(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    campaign = Campaign.objects.get(name="Order shipped (demo)")

    timeline = click_timeline(campaign=campaign)
    devices = {row.name: row for row in click_devices(campaign_id=campaign.pk)}

    assert timeline.first_click_minutes >= 2 and sum(hour.total > 0 for hour in timeline.hours) >= 3
    assert timeline.total == click_counts(campaign_id=campaign.pk).total
    assert {"Android", "iPhone / iPad"} <= devices.keys()
    # each recipient clicked on one device, so recipients add up to the Unique Click Count
    assert sum(row.recipients for row in devices.values()) == click_counts(campaign_id=campaign.pk).unique
    # and it and its history happened then: created before the launch (as the campaign list says too), nothing after
    # the first click
    events = campaign.events.order_by("at")
    assert events.first().kind == "created" and events.first().at == campaign.created_at < campaign.launched_at
    assert not campaign.messages.filter(created_at__gt=campaign.launched_at).exists()
    assert (
        events.last().at == campaign.launched_at
        and events.last().at < campaign.clicks.order_by("clicked_at")[0].clicked_at
    )
    # and its credits were settled, as the supervisor settles a finished campaign's
    assert campaign.credits_settled_at is not None
    # and its receipts came seconds after the hand-over, so its delivery speed reads as a real campaign's
    speed = delivery_speed(campaign=campaign)
    assert timedelta(seconds=1) < speed.median < timedelta(seconds=30) and speed.within[-1].percent == 100.0
    # and its messages were handed over one after the other, in seconds, not all in the same instant
    assert timedelta(seconds=1) < speed.send_duration < timedelta(seconds=10)


def test_postgresql_sessions_run_without_jit(postgres):
    # batch statements on a fresh campaign's rows would otherwise be JIT-compiled for longer than they run
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_health_check_answers(client, db):
    assert client.get("/healthz").content == b"ok"


def test_a_production_environment_passes_djangos_deployment_checks():
    # given the settings a TLS deployment sets, read from the environment as in production
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "production-secret-" + "a1B2c3D4e5" * 5,
        "HASHIDS_SALT": "s" * 32,
        "ALLOWED_HOSTS": "app.acme.in,.cplry.com",
        "BEHIND_TLS_PROXY": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "SECURE_SSL_REDIRECT": "true",
        "PUBLIC_BASE_URL": "https://app.acme.in",
    }
    # when Django's deployment checks run, then nothing is reported, warnings included
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- Security defaults ------------------------------------------------------------------------------------------

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "production-secret-" + "a1B2c3D4e5" * 5,
    "HASHIDS_SALT": "s" * 32,
    "ALLOWED_HOSTS": "app.acme.in,.cplry.com",
    "PUBLIC_BASE_URL": "https://app.acme.in",
}
GUARDS = ("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "LINK_CHECK_ALLOW_PRIVATE_ADDRESSES", "GATEWAY_ALLOW_PRIVATE_ADDRESSES")


def _settings_read(env: dict, *names: str) -> dict:
    """Settings as a process started with only `env` reads them (no .env file of the test machine)."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {list(names)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT, env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "linktrack.settings", **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("debug", ["true", "false"])
def test_the_private_address_guards_are_on_whatever_debug_is(debug):
    assert _settings_read({**PRODUCTION, "DEBUG": debug}, *GUARDS) == dict.fromkeys(GUARDS, False)


def test_with_debug_off_and_an_https_address_hsts_and_secure_cookies_are_on():
    read = _settings_read(
        PRODUCTION,
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    )
    assert read == {
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    }
    # over plain http (or with DEBUG on) no HSTS is promised
    assert _settings_read({**PRODUCTION, "PUBLIC_BASE_URL": "http://app.acme.in"}, "SECURE_HSTS_SECONDS") == {
        "SECURE_HSTS_SECONDS": 0
    }
    assert _settings_read({**PRODUCTION, "DEBUG": "true"}, "SECURE_HSTS_SECONDS") == {"SECURE_HSTS_SECONDS": 0}


def test_the_least_a_production_environment_sets_passes_djangos_deployment_checks():
    # given only what the README asks of a deployment: DEBUG off, secrets, hosts and its https address
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={"PATH": os.environ["PATH"], **PRODUCTION}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # then Django's deployment checks report nothing, warnings included
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_every_page_carries_a_content_security_policy_without_inline_script_or_style(client, db):
    response = client.get("/accounts/login/")
    policy = dict(
        directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";") if directive
    )
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == policy["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_an_https_answer_carries_hsts_when_it_is_on(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/healthz", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_seeded_demo_has_purchases_that_set_those_who_clicked_against_the_others(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # a second seed finds every purchase unchanged
    purchases = Transaction.objects.count()
    sales = CampaignSales.objects.filter(campaign__name__endswith="(demo)")

    assert purchases > 30 and Transaction.objects.values("transaction_id").distinct().count() == purchases
    assert not TransactionChange.objects.exists()
    assert sum(row.clicked_buyers for row in sales) > 0 and sum(row.other_buyers for row in sales) > 0
    # and a demo campaign has enough buyers in both groups for its page to compare them (not "too few to compare")
    assert any(min(row.clicked_buyers, row.other_buyers) >= MIN_BUYERS_TO_COMPARE for row in sales)
