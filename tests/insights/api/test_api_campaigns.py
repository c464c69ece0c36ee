"""The reporting API's campaigns: the list with the campaign list's figures, its filters and pages, and one
campaign as its page shows it."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Template
from delivery.models import GatewayConfig, Message
from tests.insights.api.helpers import IPHONE, LIST_URL, PHONE, PREVIEW_BOT, _campaign, _click, _error_of


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(org=org, name="Newsletter", channel="email", subject="News", body="Read {#var#}")


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

    # the key, the count, the page, messages and clicks (totals, clickers) of the page's campaigns
    with django_assert_num_queries(6):
        assert len(api(LIST_URL).json()["results"]) == 3
    for n in range(47):
        _campaign(template, f"More {n}", outcomes=["delivered"])
    with django_assert_num_queries(6):
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
