"""A campaign's link settings: UTM parameters and expiry, changed on its page, reach links already sent."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle import services
from campaigns.models import Campaign
from campaigns.sending import starts
from delivery.models import Message
from linktrack.counts.click_counts import click_counts
from linktrack.models import ShortLink
from linktrack.redirect.short_links import short_links_for
from tests.factories import create_campaign, make_customers
from tests.helpers import launch

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


@pytest.fixture
def sent(template, manager, django_capture_on_commit_callbacks) -> tuple[Campaign, str]:
    """A campaign sent to 3 customers; returns it and the path of one recipient's short link."""
    make_customers(template.org, 3)
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    body = Message.objects.filter(campaign=campaign).first().body
    return campaign, "/s/" + re.search(r"/s/(\w+)", body).group(1)


def _save(client, campaign, **fields):
    data = {"utm_source": "", "utm_medium": "", "utm_campaign": "", "links_expire_at": "", "expired_link_url": ""}
    # what runs on commit (the redirect's cache forgetting the changed links) runs as it would in production
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("campaigns:link-settings", args=[campaign.pk]), {**data, **fields}, follow=True)


def test_utm_parameters_set_after_sending_reach_the_links_already_sent(client, manager, sent):
    # given a sent link, clicked once (so its destination is cached)
    campaign, path = sent
    assert client.get(path, HTTP_USER_AGENT=PHONE)["Location"] == "https://acme.test/t"

    # when the manager sets UTM parameters on the campaign's link settings page
    client.force_login(manager)
    response = _save(client, campaign, utm_source="acme_sms", utm_medium="sms", utm_campaign="diwali")
    assert "Link settings saved" in response.content.decode()

    # then the next click on the same link carries them, in the usual order
    assert (
        client.get(path, HTTP_USER_AGENT=PHONE)["Location"]
        == "https://acme.test/t?utm_source=acme_sms&utm_medium=sms&utm_campaign=diwali"
    )
    page = client.get(reverse("campaigns:link-settings", args=[campaign.pk])).content.decode()
    assert (
        "now goes to <code>https://acme.test/t?utm_source=acme_sms&amp;utm_medium=sms&amp;utm_campaign=diwali" in page
    )


def test_expiring_the_links_now_shows_the_expired_page_and_late_clicks_never_count(client, manager, sent):
    campaign, path = sent
    client.get(path, HTTP_USER_AGENT=PHONE)
    before = click_counts(campaign_id=campaign.pk)

    # when the manager expires the links (a past time means now)
    client.force_login(manager)
    _save(client, campaign, links_expire_at="2026-01-01T10:00")

    # then the link says it has expired, and the click is not counted
    response = client.get(path, HTTP_USER_AGENT=PHONE)
    assert response.status_code == 404 and 'data-problem="expired"' in response.content.decode()
    assert click_counts(campaign_id=campaign.pk) == before
    assert set(ShortLink.objects.filter(campaign=campaign).values_list("expires_at", flat=True)) == {
        datetime(2026, 1, 1, 4, 30, tzinfo=UTC)  # 10:00 in India
    }


def test_an_expired_link_leads_to_the_address_the_campaign_gives_and_is_not_counted(client, manager, sent):
    campaign, path = sent
    client.force_login(manager)
    _save(client, campaign, links_expire_at="2026-01-01T10:00", expired_link_url="https://acme.test/offers")
    response = client.get(path, HTTP_USER_AGENT=PHONE)
    assert response.status_code == 302 and response["Location"] == "https://acme.test/offers"
    assert response["Cache-Control"] == "private, no-store"
    assert click_counts(campaign_id=campaign.pk).total == 0


def test_a_future_expiry_is_read_in_the_org_time_zone_and_links_work_until_then(client, manager, sent):
    campaign, path = sent
    client.force_login(manager)
    later = timezone.localtime() + timedelta(days=30)
    _save(client, campaign, links_expire_at=later.strftime("%Y-%m-%dT%H:%M"))
    campaign.refresh_from_db()
    assert campaign.links_expire_at == later.replace(second=0, microsecond=0)
    assert client.get(path, HTTP_USER_AGENT=PHONE).status_code == 302
    # and the page shows the time as it was typed
    page = client.get(reverse("campaigns:link-settings", args=[campaign.pk])).content.decode()
    assert f'value="{later:%Y-%m-%dT%H:%M}"' in page


def test_a_later_run_of_a_recurring_campaign_takes_its_link_settings(template, manager, clock, customers):
    # given a recurring campaign whose links expire on 1 Jan 2027 and then lead to the shop
    parent = create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="0 10 * * 1")
    services.campaign_launch(campaign=parent, user=manager)
    expiry = datetime(2027, 1, 1, tzinfo=UTC)
    Campaign.objects.filter(pk=parent.pk).update(
        links_expire_at=expiry, expired_link_url="https://acme.test/", next_run_at=clock.moment
    )
    # when its next run starts and mints its links
    run = starts.campaign_run_start(parent_id=parent.pk)
    link_id = short_links_for(campaign=run, destinations=["https://acme.test/t"])["https://acme.test/t"]
    # then the run and its links carry the campaign's expiry and address for late clicks
    assert (run.links_expire_at, run.expired_link_url) == (expiry, "https://acme.test/")
    assert ShortLink.objects.get(pk=link_id).expires_at == expiry


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"expired_link_url": "https://acme.test/offers"}, "Links that never expire need no address for after expiry."),
        ({"links_expire_at": "2026-01-01T10:00", "expired_link_url": "javascript:alert(1)"}, "Enter a valid URL."),
        ({"utm_source": "x" * 101}, "Ensure this value has at most 100 characters (it has 101)."),
        ({"links_expire_at": "next week"}, "Enter a valid date/time."),
    ],
)
def test_bad_settings_are_refused_next_to_the_field_and_change_nothing(client, manager, sent, fields, error):
    campaign, _ = sent
    client.force_login(manager)
    response = _save(client, campaign, **fields)
    assert error in response.content.decode()
    campaign.refresh_from_db()
    assert (campaign.utm_params, campaign.links_expire_at, campaign.expired_link_url) == ({}, None, "")


def test_another_orgs_campaign_is_a_404_and_anonymous_users_go_to_login(client, outsider, sent):
    campaign, _ = sent
    url = reverse("campaigns:link-settings", args=[campaign.pk])
    assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert _save(client, campaign, utm_source="evil").status_code == 404
