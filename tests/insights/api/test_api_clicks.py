"""The reporting API's clicks: clicks by people, oldest first, in pages that follow on."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from campaigns.models import Campaign
from delivery.models import Message
from linktrack.models import Click
from tests.insights.api.helpers import IPHONE, LIST_URL, PHONE, PREVIEW_BOT, _campaign, _click, _error_of

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
