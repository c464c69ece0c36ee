"""Through the pages: a link that is not whitelisted on DLT stops a launch, and the manager is told why."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle import services
from campaigns.models import Campaign, WhitelistedUrl
from campaigns.sending import starts
from delivery.models import Message
from tests.factories import PASSWORD


@pytest.fixture
def signed_in(client, manager):
    response = client.post(reverse("login"), {"username": manager.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def untracked(org):
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    return org


def _create(client, template, link: str) -> Campaign:
    response = client.post(
        reverse("campaigns:new") + f"?template={template.pk}",
        {
            "name": "Shipping update",
            "slot_1_source": "field",
            "slot_1_value": "name",
            "slot_2_source": "url",
            "slot_2_value": link,
        },
    )
    campaign = Campaign.objects.get(name="Shipping update")
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    return campaign


def test_campaign_with_a_link_off_the_whitelist_is_refused_at_launch_with_the_reason(
    signed_in, untracked, template, customers, django_capture_on_commit_callbacks
):
    # given an org that recorded its whitelist, and a campaign linking elsewhere
    WhitelistedUrl.objects.create(org=untracked, url="https://acme.in/", kind="dynamic")
    campaign = _create(signed_in, template, "https://shop.example.com/track")

    # when the manager launches it
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("campaigns:launch", args=[campaign.pk]), follow=True)

    # then it stays a draft, nothing is sent, and the page names the link and what to do
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("campaigns:detail", args=[campaign.pk])
    assert (
        'class="error">The link &#x27;https://shop.example.com/track&#x27; (variable 2) is not on Acme Retail&#x27;s '
        "URL whitelist. Operators block messages with links that are not whitelisted on DLT." in page
    )
    assert "record it under Templates › URL whitelist" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()

    # and once the link is recorded on the whitelist page, the same launch goes through
    signed_in.post(
        reverse("campaigns:url-whitelist", args=[untracked.pk]),
        {"url": "https://shop.example.com/track", "kind": "static"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("campaigns:launch", args=[campaign.pk]), {"confirmed": "1"})
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
    assert Message.objects.filter(campaign=campaign).count() == len(customers)


def test_preview_shows_the_refusal_before_launch(signed_in, untracked, template, customers):
    WhitelistedUrl.objects.create(org=untracked, url="https://acme.in/", kind="dynamic")
    campaign = _create(signed_in, template, "bit.ly/3xYz")
    page = signed_in.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert 'id="launch-refused"' in page
    assert 'data-finding="public_shortener">The link &#x27;bit.ly/3xYz&#x27; (variable 2) goes through bit.ly' in page


def test_tracking_on_and_short_domain_not_whitelisted_warns_on_preview_and_support_page(
    signed_in, client, org, template, customers, support
):
    # given tracking on and a whitelist without the short domain
    WhitelistedUrl.objects.create(org=org, url="https://shop.example.com/", kind="dynamic")
    campaign = _create(signed_in, template, "https://shop.example.com/track")
    warning = (
        "Tracked links go out as &#x27;127.0.0.1:8000/s/…&#x27;, and &#x27;127.0.0.1:8000/s/&#x27; is not on "
        "Acme Retail&#x27;s URL whitelist: operators block every message with a tracked link."
    )

    # when the manager previews the campaign, the refusal to come is shown
    preview = signed_in.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert 'id="launch-refused"' in preview and warning in preview

    # and launching is refused with the same words
    response = signed_in.post(reverse("campaigns:launch", args=[campaign.pk]), follow=True)
    assert warning in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT

    # and support staff see it on the org's link tracking page
    client.force_login(support)
    support_page = client.get(reverse("support:org", args=[org.pk])).content.decode()
    assert 'data-finding="short_domain">' + warning in support_page
    assert 'id="short-domain-whitelisted"' not in support_page

    # once the short domain is whitelisted, both pages are clear
    WhitelistedUrl.objects.create(org=org, url="127.0.0.1:8000/s/", kind="dynamic")
    assert 'id="short-domain-whitelisted"' in client.get(reverse("support:org", args=[org.pk])).content.decode()
    client.force_login(campaign.created_by)
    preview = client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert 'id="trai-fine"' in preview and "launch-refused" not in preview


def test_support_page_warns_before_tracking_is_switched_on(client, support, untracked):
    WhitelistedUrl.objects.create(org=untracked, url="https://acme.in/", kind="dynamic")
    client.force_login(support)
    page = client.get(reverse("support:org", args=[untracked.pk])).content.decode()
    expected = (
        'class="warning" data-finding="short_domain">Tracked links would go out (if link tracking were switched on)'
    )
    assert expected in page


def test_without_a_recorded_whitelist_the_launch_goes_through_with_a_warning(
    signed_in, untracked, template, customers, django_capture_on_commit_callbacks
):
    campaign = _create(signed_in, template, "https://shop.example.com/track")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("campaigns:launch", args=[campaign.pk]), {"confirmed": "1"}, follow=True)
    page = response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
    assert 'class="warning">Acme Retail has not recorded its DLT URL whitelist, so links cannot be checked.' in page


def test_recurring_run_is_skipped_when_its_link_left_the_whitelist(untracked, template, manager, customers):
    # given an active recurring campaign whose link was whitelisted at launch
    entry = WhitelistedUrl.objects.create(org=untracked, url="https://shop.example.com/track")
    WhitelistedUrl.objects.create(org=untracked, url="https://acme.in/", kind="dynamic")
    campaign = services.campaign_create(
        org=untracked,
        user=manager,
        name="Weekly",
        template=template,
        kind=Campaign.Kind.RECURRING,
        schedule="0 10 * * 1",
        slot_values=[
            {"source": "field", "value": "name"},
            {"source": "url", "value": "https://shop.example.com/track"},
        ],
    )
    services.campaign_launch(campaign=campaign, user=manager)
    # when the link is removed from the whitelist and the run falls due
    entry.delete()
    Campaign.objects.filter(pk=campaign.pk).update(next_run_at=timezone.now() - timedelta(minutes=1))
    # then the run is skipped and the campaign says why
    assert starts.campaign_run_start(parent_id=campaign.pk) is None
    campaign.refresh_from_db()
    assert not campaign.runs.exists()
    assert "was skipped: The link 'https://shop.example.com/track' (variable 2) is not on" in campaign.hold_reason
