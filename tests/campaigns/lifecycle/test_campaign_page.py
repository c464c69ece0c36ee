"""The campaign page: live progress with percentages, the buttons that fit the campaign's state, its JSON feed."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from campaigns.base import clock
from campaigns.models import Campaign
from campaigns.sending.dispatch import campaign_dispatch
from delivery.models import Message
from tests.factories import CampaignFactory, create_campaign, make_customers


def test_running_campaign_shows_progress_with_percentages_and_pause_and_cancel(client, template, manager):
    # given 10 prepared messages: 4 handed over (sent), 6 still queued
    make_customers(template.org, 10)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING, launched_at=clock.now())
    campaign_dispatch(campaign_id=campaign.pk)
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[:4]).update(status=Message.Status.SENT, gateway_message_id="g")
    client.force_login(manager)

    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    progress = client.get(reverse("campaigns:progress", args=[campaign.pk])).json()

    assert 'data-progress="queued">6<' in page and 'data-percent="queued">60.0<' in page
    assert 'data-progress="sent">4<' in page and 'data-percent="sent">40.0<' in page
    assert "data-reload-seconds" in page
    assert reverse("campaigns:pause", args=[campaign.pk]) in page
    assert reverse("campaigns:cancel", args=[campaign.pk]) in page
    assert progress["queued"] == 6 and progress["sent"] == 4 and progress["percent"]["sent"] == 40.0
    assert progress["handed_over_percent"] == 40.0 and progress["status"] == "dispatched"


def test_draft_page_offers_launch_with_a_time_and_no_pause(client, template, manager):
    campaign = create_campaign(template, manager)
    client.force_login(manager)

    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert 'name="scheduled_at"' in page and "Asia/Kolkata" in page
    assert reverse("campaigns:pause", args=[campaign.pk]) not in page


def test_recurring_campaign_page_lists_its_runs(client, template, manager):
    parent = create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="0 10 * * *")
    run = CampaignFactory(
        org=parent.org, name="Run 1", template=template, parent=parent, status=Campaign.Status.DISPATCHED
    )
    client.force_login(manager)

    page = client.get(reverse("campaigns:detail", args=[parent.pk])).content.decode()

    assert reverse("campaigns:detail", args=[run.pk]) in page and "0 10 * * *" in page
    assert "Run 1" not in client.get(reverse("campaigns:list")).content.decode()


def test_progress_feed_of_another_org_is_not_found(client, outsider, template, manager):
    campaign = create_campaign(template, manager)
    client.force_login(outsider)
    assert client.get(reverse("campaigns:progress", args=[campaign.pk])).status_code == 404


def test_page_refreshes_while_receipts_arrive_but_not_for_days(client, template, manager):
    # given a campaign handed over with messages still waiting for receipts
    make_customers(template.org, 4)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING, launched_at=clock.now())
    campaign_dispatch(campaign_id=campaign.pk)
    Message.objects.filter(campaign=campaign).update(status=Message.Status.SENT, gateway_message_id="g")
    client.force_login(manager)
    url = reverse("campaigns:detail", args=[campaign.pk])

    # when it was handed over a minute ago, the page keeps itself fresh; two days later it does not
    Campaign.objects.filter(pk=campaign.pk).update(dispatched_at=timezone.now() - timedelta(minutes=1))
    assert "data-reload-seconds" in client.get(url).content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(dispatched_at=timezone.now() - timedelta(days=2))
    page = client.get(url).content.decode()
    assert "data-reload-seconds" not in page
    assert "4 of them still waiting for a receipt" in page
