"""The reporting API: who may call it (a Bearer API key of the campaign's org only), how often, and that it only
reads."""

from types import SimpleNamespace

import pytest
from django.test import Client

from campaigns.models import Campaign, Template
from insights.api import keys as api_keys
from insights.models import ApiKey
from tests.insights.api.helpers import LIST_URL, _campaign, _error_of

# --- Who may call -------------------------------------------------------------------------------------------------


def test_without_a_key_the_answer_is_401_asking_for_a_bearer_key(client, org):
    response = client.get(LIST_URL)
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="linktrack"'
    assert "Authorization: Bearer" in _error_of(response)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer lt_short",
        "Basic dXNlcjpwYXNz",
        "Bearer lt_" + "A" * 43,  # well formed, unknown
        "lt_" + "A" * 43,  # no scheme
    ],
)
def test_a_malformed_or_unknown_key_is_401(client, raw_key, authorization):
    response = client.get(LIST_URL, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="linktrack", error="invalid_token"'
    assert _error_of(response)


def test_a_revoked_key_is_401_and_its_figures_stay_out_of_sight(api, raw_key, manager, template):
    _campaign(template, "Diwali sale")
    assert api(LIST_URL).status_code == 200

    api_keys.api_key_revoke(api_key=ApiKey.objects.get(), user=manager)

    response = api(LIST_URL)
    assert response.status_code == 401 and "revoked" in _error_of(response)
    assert "Diwali" not in response.content.decode()


def test_a_session_is_not_a_key(client, manager, template):
    _campaign(template, "Diwali sale")
    client.force_login(manager)
    assert client.get(LIST_URL).status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_only_reads(raw_key, template, method):
    # given a client that checks CSRF like a browser: the API still answers in its own words
    campaign = _campaign(template, "Diwali sale")
    caller = Client(enforce_csrf_checks=True)

    response = getattr(caller, method)(f"{LIST_URL}{campaign.pk}/", headers={"Authorization": f"Bearer {raw_key}"})

    assert response.status_code == 405 and response["Allow"] == "GET"
    assert "use GET" in _error_of(response)
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_an_unknown_address_under_the_api_is_a_json_404(api):
    response = api("/api/v1/customers/")
    assert response.status_code == 404 and "/api/v1/campaigns/" in _error_of(response)


def test_another_orgs_campaign_is_a_404_like_a_missing_one_and_never_listed(api, template, outsider, other_org):
    # given a campaign of another org (same name) and one of the key's org
    other_template = Template.objects.create(org=other_org, name="Theirs", body="Hi {#var#}")
    theirs = _campaign(other_template, "Diwali sale")
    ours = _campaign(template, "Diwali sale")
    missing = theirs.pk + ours.pk + 1000

    # then the list has only ours, and theirs reads exactly as a campaign that does not exist
    assert [row["id"] for row in api(LIST_URL).json()["results"]] == [ours.pk]
    for suffix in ("", "clicks/"):
        other, absent = api(f"{LIST_URL}{theirs.pk}/{suffix}"), api(f"{LIST_URL}{missing}/{suffix}")
        assert other.status_code == absent.status_code == 404
        assert other.content == absent.content and _error_of(other)
    assert api(f"{LIST_URL}{2**64}/").status_code == 404


# --- Rate --------------------------------------------------------------------------------------------------------


def test_a_key_over_its_rate_gets_429_with_retry_after_and_other_keys_go_on(api, settings, org, manager, monkeypatch):
    # given a limit of 3 calls a minute, and a clock 29.5 seconds into a minute
    settings.API_RATE_PER_MINUTE = 3
    clock = SimpleNamespace(time=lambda: 1_800_000_000 + 29.5)
    monkeypatch.setattr(api_keys, "time", clock)
    other_key = api_keys.api_key_create(org=org, user=manager, name="Another tool")[1]

    # when a key calls 4 times within the minute
    answers = [api(LIST_URL) for _ in range(4)]

    # then the 4th is told to wait for the next minute, while another key of the org goes on
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused["Retry-After"] == "31"
    assert "try again in 31 seconds" in _error_of(refused)
    assert api(LIST_URL, key=other_key).status_code == 200
    # and in the next minute the key may call again
    clock.time = lambda: 1_800_000_060 + 0.5
    assert api(LIST_URL).status_code == 200


@pytest.mark.redis
def test_the_rate_is_counted_in_redis_when_it_is_configured(redis_url, api, settings):
    # With REDIS_URL set, Django's cache is Redis: every web process counts the same calls.
    import redis
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)
    settings.API_RATE_PER_MINUTE = 1

    assert [api(LIST_URL).status_code for _ in range(2)] == [200, 429]
    counters = redis.Redis.from_url(redis_url).keys("*api-rate:*")
    assert len(counters) == 1 and f"api-rate:{ApiKey.objects.get().pk}:" in counters[0].decode()


def test_every_answer_says_no_store(api, client, template):
    campaign = _campaign(template, "Diwali sale")
    for response in (
        api(LIST_URL),
        api(f"{LIST_URL}{campaign.pk}/"),
        api(f"{LIST_URL}{campaign.pk}/clicks/"),
        client.get(LIST_URL),
        api(LIST_URL, status="nope"),
    ):
        assert response["Cache-Control"] == "no-store"
