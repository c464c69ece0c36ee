"""The reporting API: an org's campaign figures as JSON for its BI tools, with a Bearer API key of that org only."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Customer, Template
from delivery.models import GatewayConfig, Message
from insights.api import keys as api_keys
from insights.models import ApiKey
from linktrack.models import Click, ShortLink
from linktrack.redirect import short_links

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
PREVIEW_BOT = "WhatsApp/2.23.20.0 A"
LIST_URL = "/api/v1/campaigns/"


@pytest.fixture
def raw_key(org, manager) -> str:
    return api_keys.api_key_create(org=org, user=manager, name="BI")[1]


@pytest.fixture
def api(client, raw_key):
    """GET as a BI tool does: the key in the Authorization header, no session."""

    def get(url: str, key: str | None = None, **params):
        return client.get(url, params, headers={"Authorization": f"Bearer {key or raw_key}"})

    return get


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(org=org, name="Newsletter", channel="email", subject="News", body="Read {#var#}")


def _campaign(template: Template, name: str, *, status="dispatched", created_at=None, outcomes=(), **fields):
    """A campaign with one message per entry of `outcomes` (a Message status) and one tracked link."""
    campaign = Campaign.objects.create(org=template.org, name=name, template=template, status=status, **fields)
    if created_at is not None:
        Campaign.objects.filter(pk=campaign.pk).update(created_at=created_at)
        campaign.refresh_from_db()
    have = template.org.customers.count()
    Customer.objects.bulk_create(
        Customer(org=template.org, name=f"Customer {n}", mobile=f"+91981{n:07d}", external_id=f"C{n}")
        for n in range(have + 1, len(outcomes) + 1)
    )
    customers = list(template.org.customers.order_by("pk")[: len(outcomes)])
    Message.objects.bulk_create(
        Message(
            campaign=campaign,
            customer=c,
            channel=template.channel,
            recipient=c.mobile,
            status=status,
        )
        for c, status in zip(customers, outcomes, strict=False)
    )
    short_links.short_links_for(campaign=campaign, destinations=["https://acme.test/sale"])
    return campaign


def _click(campaign: Campaign, message: Message | None, *, agent=PHONE, bot=False, at=None) -> Click:
    return Click.objects.create(
        event_id=uuid.uuid4().hex,
        short_link=ShortLink.objects.get(campaign=campaign),
        campaign=campaign,
        message=message,
        channel=campaign.template.channel,
        clicked_at=at or datetime(2026, 11, 20, 4, 35, 12, 123456, tzinfo=UTC),
        user_agent=agent,
        is_bot=bot,
    )


def _error_of(response) -> str:
    assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "no-store"
    return response.json()["error"]


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


# --- The list -----------------------------------------------------------------------------------------------------


def test_the_list_gives_each_campaign_with_the_figures_of_the_campaign_list(api, template, email_template, org):
    # given an SMS campaign: 4 messages, 3 delivered, 2 recipients clicked (3 clicks), a preview bot
    launched = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)
    sms = _campaign(template, "Diwali SMS", outcomes=["delivered"] * 3 + ["not_delivered"], launched_at=launched)
    first, second, *_ = Message.objects.filter(campaign=sms).order_by("pk")
    for message in (first, first, second):
        _click(sms, message)
    _click(sms, first, agent=PREVIEW_BOT, bot=True)
    # and a draft email campaign
    _campaign(email_template, "Newsletter", status="draft")

    results = api(LIST_URL).json()["results"]

    assert results[1] == {
        "id": sms.pk,
        "name": "Diwali SMS",
        "channel": "sms",
        "kind": "one_time",
        "status": "dispatched",
        "created_at": sms.created_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "launched_at": "2026-11-20T04:30:00Z",
        "messages": 4,
        "delivered": 3,
        "unique_clicks": 2,
        "total_clicks": 3,
        "click_rate": 66.7,
    }
    assert results[0]["name"] == "Newsletter" and results[0]["channel"] == "email"
    assert results[0]["launched_at"] is None and results[0]["messages"] == results[0]["click_rate"] == 0


def test_the_list_filters_by_status_and_channel(api, template, email_template):
    sms_sent = _campaign(template, "SMS sent", outcomes=["delivered"] * 2)
    _campaign(template, "SMS draft", status="draft")
    email_sent = _campaign(email_template, "Email sent", outcomes=["delivered"])

    def names(**filters):
        body = api(LIST_URL, **filters).json()
        return body["count"], [row["name"] for row in body["results"]]

    assert names(status="dispatched") == (2, ["Email sent", "SMS sent"])
    assert names(channel="sms") == (2, ["SMS draft", "SMS sent"])
    assert names(status="dispatched", channel="email") == (1, ["Email sent"])
    assert names(status="paused") == (0, [])
    assert api(LIST_URL, channel="email").json()["results"][0]["delivered"] == 1
    assert {sms_sent.pk, email_sent.pk} <= {row["id"] for row in api(LIST_URL).json()["results"]}


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (
            {"status": "sent"},
            "status must be one of draft, scheduled, active, dispatching, paused, dispatched, cancelled",
        ),
        ({"channel": "whatsapp"}, "channel must be one of sms, email"),
        ({"page": "two"}, "page must be a whole number from 1 to 1"),
        ({"page": "0"}, "page must be a whole number from 1 to 1"),
        ({"page": "2"}, "page must be a whole number from 1 to 1"),
    ],
)
def test_a_filter_or_page_that_makes_no_sense_is_400_naming_it(api, template, params, words):
    _campaign(template, "Diwali sale")
    response = api(LIST_URL, **params)
    assert response.status_code == 400 and words in _error_of(response)


def test_the_list_is_newest_first_50_a_page_with_next_and_previous_keeping_the_filters(api, template):
    # given 53 SMS campaigns created a minute apart, and a recurring campaign's run (never listed on its own)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(53):
        _campaign(template, f"Campaign {n:02}", created_at=start + timedelta(minutes=n))
    recurring = _campaign(
        template, "Weekly", status="active", schedule="0 10 * * 1", created_at=start - timedelta(days=1)
    )
    _campaign(template, "Weekly run", parent=recurring, created_at=start + timedelta(days=9))

    first = api(LIST_URL, channel="sms").json()
    assert first["count"] == 54 and len(first["results"]) == 50 and first["previous"] is None
    assert [row["name"] for row in first["results"][:2]] == ["Campaign 52", "Campaign 51"]
    next_url = urlsplit(first["next"])
    assert next_url.path == LIST_URL and parse_qs(next_url.query) == {"channel": ["sms"], "page": ["2"]}
    assert first["next"].startswith("http://testserver/")

    second = api(first["next"]).json()
    assert [row["name"] for row in second["results"]] == ["Campaign 02", "Campaign 01", "Campaign 00", "Weekly"]
    assert second["next"] is None and parse_qs(urlsplit(second["previous"]).query)["page"] == ["1"]
    assert "Weekly run" not in {row["name"] for row in first["results"] + second["results"]}


def test_a_page_of_the_list_costs_the_same_queries_for_3_or_50_campaigns(api, template, django_assert_num_queries):
    for n in range(3):
        _campaign(template, f"Campaign {n}", outcomes=["delivered"] * 2)
    api(LIST_URL)  # the key's first use is recorded; later calls within the minute write nothing

    # the key, the count, the page, messages and clicks of the page's campaigns
    with django_assert_num_queries(5):
        assert len(api(LIST_URL).json()["results"]) == 3
    for n in range(47):
        _campaign(template, f"More {n}", outcomes=["delivered"])
    with django_assert_num_queries(5):
        assert len(api(LIST_URL).json()["results"]) == 50


def test_a_recurring_campaign_adds_up_its_runs_and_its_page_lists_them(api, template):
    recurring = _campaign(template, "Weekly", status="active", schedule="0 10 * * 1")
    run = _campaign(template, "Weekly 1", parent=recurring, outcomes=["delivered"] * 2)
    _click(run, Message.objects.filter(campaign=run).first())

    listed = api(LIST_URL).json()["results"]
    detail = api(f"{LIST_URL}{recurring.pk}/").json()

    assert [(row["id"], row["messages"], row["unique_clicks"]) for row in listed] == [(recurring.pk, 2, 1)]
    assert [(row["id"], row["delivered"], row["total_clicks"]) for row in detail["runs"]] == [(run.pk, 2, 1)]
    assert api(f"{LIST_URL}{run.pk}/").json()["parent_id"] == recurring.pk


# --- One campaign -------------------------------------------------------------------------------------------------


def _figures(page: str) -> dict[str, tuple[int, float | None]]:
    """The campaign page's delivery figures: count and percent by outcome (percent None where none is shown)."""
    found = {}
    for name, count, percent in re.findall(
        r'data-figure="(\w+)">(\d+)</strong>(?:<span data-percent="\w+">)?(?:([\d.]+)%)?', page
    ):
        found[name] = (int(count), float(percent) if percent else None)
    return found


def _reasons_on_details_page(client, campaign: Campaign, group: str) -> list[dict]:
    page = client.get(reverse("delivery:details", args=[campaign.pk, group])).content.decode()
    return [
        {"code": code, "title": title, "count": int(count)}
        for code, title, count in re.findall(
            r'data-reason="([\w-]+)">\s*<h2>([^<]+)</h2>\s*<p><strong data-count>(\d+)</strong>', page
        )
    ]


def test_a_campaign_reads_as_its_page_shows_it(api, client, manager, org, customers, send_campaign):
    # given a campaign sent through the simulated gateway: 2 unsubscribed, the others with mixed receipts
    for customer in customers[:2]:
        customer.sms_subscribed = False
        customer.save(update_fields=["sms_subscribed"])
    GatewayConfig.objects.create(
        org=org, channel="sms", kind="simulated", settings={"mix": "delivered:3,ndnc:1,undeliverable:1", "seed": 3}
    )
    campaign = send_campaign(name="Diwali sale")
    # and clicks through the short links the recipients received: three people, one twice, and a link preview
    bodies = list(Message.objects.filter(campaign=campaign, status="delivered").values_list("body", flat=True))
    codes = [re.search(r"/s/([0-9A-Z]+)", body).group(1) for body in bodies]
    for code, agent in [(codes[0], PHONE), (codes[0], PHONE), (codes[1], IPHONE), (codes[2], PHONE)]:
        assert client.get(f"/s/{code}", headers={"User-Agent": agent}).status_code == 302
    client.get(f"/s/{codes[0]}", headers={"User-Agent": PREVIEW_BOT})

    # when the BI tool reads the campaign, and the manager opens its page and View Details
    body = api(f"{LIST_URL}{campaign.pk}/").json()
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    shown = _figures(page)

    # then every figure is the page's
    assert body["id"] == campaign.pk and body["name"] == "Diwali sale" and body["status"] == "dispatched"
    delivery = body["delivery"]
    assert delivery["messages"] == shown["total"][0] == 10
    for outcome in ("sent", "delivered", "not_sent", "not_delivered", "unknown"):
        assert (delivery[outcome]["count"], delivery[outcome]["percent"]) == shown[outcome], outcome
    assert delivery["not_sent"]["count"] == 2 and delivery["not_delivered"]["count"] > 0
    assert body["delivered"] == delivery["delivered"]["count"] and body["messages"] == 10
    assert (body["unique_clicks"], body["total_clicks"]) == (shown["unique_clicks"][0], shown["total_clicks"][0])
    assert (body["unique_clicks"], body["total_clicks"]) == (3, 4)
    assert f'data-figure="click_rate">{body["click_rate"]}%<' in page
    for group in ("not_sent", "not_delivered"):
        assert body["reasons"][group] == _reasons_on_details_page(client, campaign, group), group
    assert body["reasons"]["not_sent"] == [{"code": "unsubscribed", "title": "Customer unsubscribed", "count": 2}]
    [link] = body["links"]
    assert f'<tr data-link="{link["id"]}">' in page
    row = page.split(f'<tr data-link="{link["id"]}">')[1].split("</tr>")[0]
    assert row.endswith(f"<td>{link['unique_clicks']}</td><td>{link['total_clicks']}</td>")
    assert link == {"id": link["id"], "destination": "https://acme.test/t", "unique_clicks": 3, "total_clicks": 4}
    assert body["runs"] == [] and body["parent_id"] is None


# --- Clicks -------------------------------------------------------------------------------------------------------


@pytest.fixture
def clicked(template) -> tuple[Campaign, list[Click]]:
    """5 clicks by people (one without a recipient) and 2 link previews between them, in that order."""
    campaign = _campaign(template, "Diwali sale", outcomes=["delivered"] * 3)
    first, second, third = Message.objects.filter(campaign=campaign).order_by("pk")
    start = datetime(2026, 11, 20, 4, 35, 12, 500000, tzinfo=UTC)
    people = []
    visits = [(first, PHONE), (second, IPHONE), (first, PHONE), (None, IPHONE), (third, PHONE)]
    for n, (message, agent) in enumerate(visits):
        people.append(_click(campaign, message, agent=agent, at=start + timedelta(minutes=n)))
        if n in (1, 3):
            _click(campaign, message, agent=PREVIEW_BOT, bot=True, at=start + timedelta(minutes=n))
    return campaign, people


def test_clicks_by_people_come_oldest_first_in_pages_that_follow_on(api, clicked, django_assert_num_queries):
    campaign, people = clicked
    url = f"{LIST_URL}{campaign.pk}/clicks/"
    api(url)  # the key's first use is recorded

    # when the clicks are read two at a time, following `next`
    seen, pages, next_url = [], 0, f"{url}?limit=2"
    while next_url:
        with django_assert_num_queries(3):  # the key, the campaign, the page of clicks
            body = api(next_url).json()
        seen += body["results"]
        next_url, pages = body["next"], pages + 1

    # then every click by a person comes once, in order, and no link preview
    assert pages == 3 and [row["id"] for row in seen] == [click.pk for click in people]
    first = seen[0]
    customer = Message.objects.get(pk=people[0].message_id).customer
    assert first == {
        "id": people[0].pk,
        "clicked_at": "2026-11-20T04:35:12Z",
        "link": "https://acme.test/sale",
        "channel": "sms",
        "recipient": customer.mobile,
        "customer_external_id": customer.external_id,
        "device": "Android",
    }
    assert seen[1]["device"] == "iPhone / iPad"
    assert seen[3]["recipient"] is None and seen[3]["customer_external_id"] is None


def test_clicks_after_a_stored_one_and_the_default_page(api, clicked):
    campaign, people = clicked
    url = f"{LIST_URL}{campaign.pk}/clicks/"

    everything = api(url).json()
    later = api(url, after=people[2].pk).json()

    assert [row["id"] for row in everything["results"]] == [click.pk for click in people]
    assert everything["next"] is None
    assert [row["id"] for row in later["results"]] == [people[3].pk, people[4].pk]
    assert parse_qs(urlsplit(api(url, after=people[0].pk, limit=1).json()["next"]).query) == {
        "after": [str(people[1].pk)],
        "limit": ["1"],
    }


def test_a_large_page_of_clicks_costs_the_same_queries(api, template, django_assert_num_queries):
    campaign = _campaign(template, "Diwali sale", outcomes=["delivered"] * 10)
    for message in Message.objects.filter(campaign=campaign):
        for _ in range(30):
            _click(campaign, message)
    url = f"{LIST_URL}{campaign.pk}/clicks/"
    api(url)

    with django_assert_num_queries(3):
        body = api(url, limit=1000).json()

    assert len(body["results"]) == 300 and body["next"] is None


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": "1001"}, "limit must be a whole number from 1 to 1000"),
        ({"limit": "0"}, "limit must be a whole number from 1 to 1000"),
        ({"after": "-1"}, "after must be a whole number from 0 to"),
        ({"after": "12a"}, "after must be a whole number from 0 to"),
    ],
)
def test_a_cursor_that_makes_no_sense_is_400_naming_it(api, clicked, params, words):
    campaign, _ = clicked
    response = api(f"{LIST_URL}{campaign.pk}/clicks/", **params)
    assert response.status_code == 400 and words in _error_of(response)


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
