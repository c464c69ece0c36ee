"""API keys: created on a page and shown once, stored as a hash, revoked at once; one org never sees another's."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from insights.api import keys as api_keys
from insights.models import ApiKey
from tests.helpers import admin_sign_in

KEY_ON_PAGE = re.compile(r'<code id="raw-key">(lt_[A-Za-z0-9_-]+)</code>')


@pytest.fixture
def other_key(other_org, outsider) -> ApiKey:
    api_key, _ = api_keys.api_key_create(org=other_org, user=outsider, name="Other brand's Tableau")
    return api_key


def _create_on_page(client, org, name="Power BI dashboard"):
    return client.post(reverse("insights:api-keys"), {"org": org.pk, "name": name})


def test_a_new_key_is_shown_once_then_only_its_prefix_and_only_its_hash_is_stored(client, manager, org):
    # given a campaign manager on the API keys page
    client.force_login(manager)

    # when they create a key
    response = _create_on_page(client, org)

    # then the whole key is on that answer, which no one may cache
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    raw_key = KEY_ON_PAGE.search(response.content.decode()).group(1)
    assert len(raw_key) == 46 and api_keys.is_well_formed(raw_key)
    api_key = ApiKey.objects.get()
    assert (api_key.org, api_key.name, api_key.created_by) == (org, "Power BI dashboard", manager)
    # the database keeps its first characters and its SHA-256, never the key
    assert api_key.prefix == raw_key[3:11]
    assert api_key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    stored = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert not any(raw_key in str(value) for value in stored.values())
    # and from then on the page shows only its beginning
    page = client.get(reverse("insights:api-keys")).content.decode()
    assert raw_key not in page and f"lt_{api_key.prefix}…" in page and 'id="new-key"' not in page
    assert api_keys.authenticate(raw_key) == api_key


def test_every_key_is_different(org, manager):
    keys = {api_keys.api_key_create(org=org, user=manager, name=f"Key {n}")[1] for n in range(20)}
    assert len(keys) == 20


def test_a_key_needs_a_name_and_one_of_the_users_orgs(client, manager, org, other_org):
    client.force_login(manager)

    nameless = _create_on_page(client, org, name="  ")
    not_mine = _create_on_page(client, other_org)

    assert nameless.status_code == 400 and "Name the key" in nameless.content.decode()
    assert not_mine.status_code == 400 and "Choose one of your organisations." in not_mine.content.decode()
    assert not ApiKey.objects.exists()


def test_the_page_documents_the_endpoints_with_a_curl_example(client, manager):
    client.force_login(manager)
    page = client.get(reverse("insights:api-keys")).content.decode()
    assert 'curl -H "Authorization: Bearer lt_…" http://testserver/api/v1/campaigns/' in page
    for endpoint in ("/api/v1/campaigns/", "/api/v1/campaigns/&lt;id&gt;/", "/api/v1/campaigns/&lt;id&gt;/clicks/"):
        assert f"<code>GET {endpoint}</code>" in page
    assert "dispatched" in page and "Retry-After" in page


def test_insights_links_to_the_api_keys_page(client, manager, org):
    client.force_login(manager)
    page = client.get(reverse("insights:overview")).content.decode()
    assert f'id="api-keys-link" href="{reverse("insights:api-keys")}"' in page


def test_the_page_needs_a_login(client, org):
    response = client.get(reverse("insights:api-keys"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(reverse("insights:api-keys"), {"org": org.pk, "name": "x"}).status_code == 302
    assert not ApiKey.objects.exists()


def test_a_manager_sees_and_revokes_only_their_orgs_keys(client, manager, org, other_key):
    # given a key of the manager's org and one of another org
    mine, _ = api_keys.api_key_create(org=org, user=manager, name="Our dashboard")
    client.force_login(manager)

    # then the page lists theirs only
    page = client.get(reverse("insights:api-keys")).content.decode()
    assert f'data-key="{mine.pk}"' in page and f'data-key="{other_key.pk}"' not in page
    assert "Other brand" not in page

    # and revoking the other org's key is a 404 that changes nothing
    response = client.post(reverse("insights:api-key-revoke", args=[other_key.pk]))
    assert response.status_code == 404
    other_key.refresh_from_db()
    assert other_key.revoked_at is None


def test_revoking_a_key_refuses_it_at_once_and_the_page_says_so(client, manager, org):
    api_key, raw_key = api_keys.api_key_create(org=org, user=manager, name="Our dashboard")
    client.force_login(manager)

    response = client.post(reverse("insights:api-key-revoke", args=[api_key.pk]), follow=True)

    page = response.content.decode()
    assert "is revoked: its next call is refused" in page
    assert f'data-key="{api_key.pk}"' in page and "data-revoked" in page
    assert api_keys.authenticate(raw_key) is None
    again = client.post(reverse("insights:api-key-revoke", args=[api_key.pk]), follow=True)
    assert "was already revoked" in again.content.decode()


def test_revoking_needs_a_post(client, manager, org):
    api_key, _ = api_keys.api_key_create(org=org, user=manager, name="Our dashboard")
    client.force_login(manager)
    assert client.get(reverse("insights:api-key-revoke", args=[api_key.pk])).status_code == 405
    api_key.refresh_from_db()
    assert api_key.revoked_at is None


def test_support_staff_see_and_revoke_every_orgs_keys(client, support, org, manager, other_key):
    mine, _ = api_keys.api_key_create(org=org, user=manager, name="Our dashboard")
    client.force_login(support)

    page = client.get(reverse("insights:api-keys")).content.decode()
    assert f'data-key="{mine.pk}"' in page and f'data-key="{other_key.pk}"' in page
    assert "<th>Organisation</th>" in page

    client.post(reverse("insights:api-key-revoke", args=[other_key.pk]))
    other_key.refresh_from_db()
    assert other_key.revoked_at is not None


def test_creating_and_revoking_need_the_csrf_token(manager, org):
    # given a browser that checks CSRF as a real one does
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    api_key, _ = api_keys.api_key_create(org=org, user=manager, name="Our dashboard")

    # when a form is posted without the token, nothing happens
    assert _create_on_page(browser, org, name="Forged").status_code == 403
    assert browser.post(reverse("insights:api-key-revoke", args=[api_key.pk])).status_code == 403
    api_key.refresh_from_db()
    assert api_key.revoked_at is None and not ApiKey.objects.filter(name="Forged").exists()

    # and with the page's token both work
    browser.get(reverse("insights:api-keys"))
    token = browser.cookies["csrftoken"].value
    created = browser.post(reverse("insights:api-keys"), {"org": org.pk, "name": "Real", "csrfmiddlewaretoken": token})
    revoked = browser.post(reverse("insights:api-key-revoke", args=[api_key.pk]), {"csrfmiddlewaretoken": token})
    assert created.status_code == 200 and ApiKey.objects.filter(name="Real").exists()
    assert revoked.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


@pytest.mark.parametrize(
    "raw_key",
    ["", "lt_", "lt_short", "xx_" + "a" * 43, "lt_" + "a" * 42, "lt_" + "a" * 44, "lt_" + "a" * 42 + "!"],
)
def test_a_malformed_key_is_refused_without_a_query(db, raw_key, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert api_keys.authenticate(raw_key) is None


def test_an_unknown_key_is_refused(org, manager):
    api_keys.api_key_create(org=org, user=manager, name="Our dashboard")
    assert api_keys.authenticate("lt_" + "A" * 43) is None


def test_last_used_is_written_at_most_once_a_minute(org, manager, django_assert_num_queries):
    # given a key used for the first time
    api_key, raw_key = api_keys.api_key_create(org=org, user=manager, name="Our dashboard")
    with django_assert_num_queries(2):  # the lookup, and recording the use
        api_keys.authenticate(raw_key)
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    assert first_use is not None

    # when it is used again within the minute, nothing is written
    with django_assert_num_queries(1):
        api_keys.authenticate(raw_key)
    api_key.refresh_from_db()
    assert api_key.last_used_at == first_use

    # and a use more than a minute later is recorded
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now() - timedelta(seconds=61))
    with django_assert_num_queries(2):
        api_keys.authenticate(raw_key)
    api_key.refresh_from_db()
    assert api_key.last_used_at > first_use


def test_the_page_shows_when_a_key_was_last_used(client, manager, org):
    _, raw_key = api_keys.api_key_create(org=org, user=manager, name="Our dashboard")
    client.force_login(manager)
    assert ">never</td>" in client.get(reverse("insights:api-keys")).content.decode()
    api_keys.authenticate(raw_key)
    assert ">never</td>" not in client.get(reverse("insights:api-keys")).content.decode()


def test_the_admin_lists_keys_read_only_without_their_hash(client, org, manager):
    api_key, raw_key = api_keys.api_key_create(org=org, user=manager, name="Our dashboard")
    from campaigns.models import User

    admin = User.objects.create_superuser("admin@linktrack.test", "a-long-admin-password-1")
    admin_sign_in(client, admin)

    listing = client.get(reverse("admin:insights_apikey_changelist")).content.decode()
    change = client.get(reverse("admin:insights_apikey_change", args=[api_key.pk])).content.decode()

    assert "Our dashboard" in listing and f"lt_{api_key.prefix}…" in listing
    for page in (listing, change):
        assert api_key.key_hash not in page and raw_key not in page
    assert client.get(reverse("admin:insights_apikey_add")).status_code == 403


def test_a_key_may_send_transactions_only_when_created_to(client, manager, org):
    client.force_login(manager)
    client.post(reverse("insights:api-keys"), {"org": org.pk, "name": "Reads"})
    client.post(reverse("insights:api-keys"), {"org": org.pk, "name": "Shop", "can_write": "on"})

    assert dict(ApiKey.objects.values_list("name", "can_write")) == {"Reads": False, "Shop": True}
    page = client.get(reverse("insights:api-keys")).content.decode()
    assert "<td data-scope>read, send transactions</td>" in page and "<td data-scope>read</td>" in page
    assert "POST /api/v1/transactions/" in page
