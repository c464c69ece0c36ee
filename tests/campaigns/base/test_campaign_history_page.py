"""A campaign's history on its page (newest first, who did it) and in the admin."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.base.history import HISTORY_LIMIT, campaign_event_record, campaign_history
from campaigns.models import User
from tests.campaigns.base.helpers import Kind
from tests.factories import UserFactory, create_campaign, make_customers
from tests.helpers import admin_sign_in, launch

# The campaign page


def _history_rows(page: str) -> list[tuple[str, str]]:
    """(what happened, who) of each row of the page's History table, top to bottom."""
    table = page[page.index('<table id="history-events">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r'<tr data-event="[^"]+"><td>[^<]+</td><td>(.*?)</td><td>([^<]+)</td></tr>', table)
    return [(re.sub(r"<[^>]+>", "", what), who) for what, who in rows]


def test_the_page_lists_the_history_newest_first_with_who_did_it(
    client, template, manager, django_capture_on_commit_callbacks
):
    # given a campaign launched by the manager and handed over by linktrack
    make_customers(template.org, 3)
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    client.force_login(manager)

    # when the manager opens its page
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    # then the History section lists the events, newest first, with the actor
    assert "<h2>History</h2>" in page
    assert _history_rows(page) == [
        (
            "Handed to the gateway: Every recipient was checked and each message to send was queued for the gateway",
            "linktrack",
        ),
        ("Launched: Sending now", manager.email),
        ("Created: One-time, to every customer", manager.email),
    ]
    assert "earlier event" not in page


def test_the_page_shows_the_latest_20_events_and_how_many_earlier_ones_there_are(client, template, manager):
    # given a campaign with 26 events
    campaign = create_campaign(template, manager)
    for number in range(1, 26):
        campaign_event_record(campaign=campaign, kind=Kind.EDITED, user=manager, detail=f"change {number}")
    client.force_login(manager)

    # when its page is opened
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    # then the latest 20 are listed, newest first, and the 6 older ones are counted
    rows = _history_rows(page)
    assert len(rows) == HISTORY_LIMIT
    assert rows[0] == ("Changed: Change 25", manager.email) and rows[-1] == ("Changed: Change 6", manager.email)
    assert "and 6 earlier events" in page


def test_an_event_of_a_deleted_user_does_not_read_as_done_by_linktrack(template, manager):
    departed = UserFactory(email="gone@acme.test", password="a-long-test-password-1")
    campaign = create_campaign(template, departed)
    departed.delete()

    events = campaign_history(campaign=campaign).events

    assert [event.by for event in events] == ["a deleted user"]


def test_another_orgs_manager_gets_a_404_for_the_page(client, template, manager, outsider):
    campaign = create_campaign(template, manager)
    client.force_login(outsider)

    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404


def test_the_page_takes_as_many_queries_for_30_events_as_for_2(client, template, manager):
    # given a campaign with 2 events, then with 30
    campaign = create_campaign(template, manager)
    other = UserFactory(email="other@acme.test", password="a-long-test-password-1")
    campaign_event_record(campaign=campaign, kind=Kind.EDITED, user=other)
    client.force_login(manager)
    url = reverse("campaigns:detail", args=[campaign.pk])
    client.get(url)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url).content.decode()
        counts.append(len(captured))
        for number in range(28):
            user = (manager, other, None)[number % 3]
            campaign_event_record(campaign=campaign, kind=Kind.EDITED, user=user, detail=f"change {number}")

    # then the page makes the same number of queries (events are read with their users, at most 20)
    assert "and 10 earlier events" in page
    assert counts[0] == counts[1]


# Support


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin@linktrack.test", "a-long-test-password-1")


def test_support_reads_the_history_in_the_admin_and_cannot_change_it(
    client, template, manager, superuser, django_capture_on_commit_callbacks
):
    make_customers(template.org, 2)
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    admin_sign_in(client, superuser)

    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    assert "Handed to the gateway" in page and "Sending now" in page
    assert 'name="events-0-detail"' not in page and "events-TOTAL_FORMS" in page
