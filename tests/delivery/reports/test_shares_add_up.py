"""The campaign page's outcomes and View Details' reasons show shares that add up to 100.0%."""

import re

from django.urls import reverse

from campaigns.models import Campaign
from delivery.models import Message
from tests.factories import CampaignFactory, make_customers, make_messages


def _campaign_of_thirds(template) -> Campaign:
    """3 messages, one delivered, one not sent (unsubscribed), one of unknown outcome; and a second campaign of 3
    not sent for 3 different reasons."""
    customers = make_customers(template.org, 3)
    campaign = CampaignFactory(template=template, status=Campaign.Status.DISPATCHED)
    delivered, unsubscribed, unknown = make_messages(campaign, customers)
    Message.objects.filter(pk=delivered.pk).update(status=Message.Status.DELIVERED, gateway_message_id="g1")
    Message.objects.filter(pk=unsubscribed.pk).update(status=Message.Status.NOT_SENT, reason_code="unsubscribed")
    Message.objects.filter(pk=unknown.pk).update(
        status=Message.Status.UNKNOWN, reason_code="operator_no_report", gateway_message_id="g3"
    )
    return campaign


def test_the_campaign_page_shows_three_thirds_as_one_hundred_percent(client, template, manager):
    # given a campaign whose messages are a third delivered, a third not sent and a third unknown
    campaign = _campaign_of_thirds(template)
    client.force_login(manager)

    # when its page is shown
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    # then the outcomes' shares add up to 100.0% (not 3 times 33.3 = 99.9%), and "sent" is what was handed over
    assert 'Delivered<strong data-figure="delivered">1</strong>33.4%' in page
    assert 'data-percent="not_sent">33.3%<' in page and 'data-percent="unknown">33.3%<' in page
    assert 'Sent<strong data-figure="sent">2</strong>66.7%' in page


def test_view_details_reasons_add_up_to_the_group_and_to_its_share_of_the_campaign(client, template, manager):
    # given 3 messages not sent, each for another reason, out of 7 messages
    customers = make_customers(template.org, 7)
    campaign = CampaignFactory(template=template, status=Campaign.Status.DISPATCHED)
    messages = make_messages(campaign, customers, status=Message.Status.DELIVERED, gateway_message_id="g")
    for message, reason in zip(messages, ["unsubscribed", "validation_failed", "out_of_credits"], strict=False):
        Message.objects.filter(pk=message.pk).update(status=Message.Status.NOT_SENT, reason_code=reason)
    client.force_login(manager)

    # when View Details of "not sent" is shown
    page = client.get(reverse("delivery:details", args=[campaign.pk, "not_sent"])).content.decode()
    report = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    # then the reasons' shares of not sent make 100.0%, and their shares of all messages make the page's 42.9%
    group_shares = sorted(float(share) for share in re.findall(r"([\d.]+)% of not sent", page))
    assert group_shares == [33.3, 33.3, 33.4]
    of_all = [float(share) for share in re.findall(r"<strong data-percent>([\d.]+)%</strong>", page)]
    assert sorted(of_all) == [14.3, 14.3, 14.3] and 'data-percent="not_sent">42.9%<' in report
