"""The campaign list and page figures: messages, delivered, unique clicks and click rate, runs added up."""

import uuid

from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle.views import CAMPAIGNS_PER_PAGE
from campaigns.models import Campaign
from delivery.models import Message
from linktrack import services
from linktrack.models import ShortLink
from tests.factories import CampaignFactory, create_campaign, make_customers, store_click

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari"


def _sent(campaign: Campaign, customers, *, delivered: int) -> list[Message]:
    """One message per customer, the first `delivered` of them delivered, the rest failed."""
    return Message.objects.bulk_create(
        [
            Message(
                campaign=campaign,
                customer=customer,
                channel="sms",
                recipient=customer.mobile,
                status=Message.Status.DELIVERED if number < delivered else Message.Status.NOT_DELIVERED,
            )
            for number, customer in enumerate(customers)
        ]
    )


def _link(campaign: Campaign, destination: str) -> ShortLink:
    return ShortLink.objects.get(
        pk=services.short_links_for(campaign=campaign, destinations=[destination])[destination]
    )


def _click(link: ShortLink, message: Message, *, agent: str = PHONE) -> None:
    store_click(
        event_id=uuid.uuid4().hex,
        short_link=link,
        campaign=link.campaign,
        message=message,
        channel="sms",
        clicked_at=timezone.now(),
        ip_hash=services.hash_ip("203.0.113.5"),
        user_agent=agent,
        is_bot=agent != PHONE,
    )


def _row(page: str, campaign: Campaign) -> str:
    start = page.index(f'data-campaign="{campaign.pk}"')
    return page[start : page.index("</tr>", start)]


def test_list_shows_messages_delivered_unique_clicks_and_click_rate(client, manager, template):
    # given 10 messages, 8 delivered; 2 recipients clicked (one twice), one link preview bot
    campaign = create_campaign(template, manager, name="Diwali")
    messages = _sent(campaign, make_customers(template.org, 10), delivered=8)
    link = _link(campaign, "https://acme.test/sale")
    _click(link, messages[0])
    _click(link, messages[0])
    _click(link, messages[1])
    _click(link, messages[2], agent="WhatsApp/2.23.20.0 A")
    client.force_login(manager)

    # when the manager opens the campaign list
    row = _row(client.get(reverse("campaigns:list")).content.decode(), campaign)

    # then the row says 10 messages, 8 delivered (80%), 2 unique clickers, 25% of delivered
    assert 'data-figure="messages">10<' in row
    assert 'data-figure="delivered">8 (80.0%)<' in row
    assert 'data-figure="unique_clicks">2<' in row
    assert 'data-figure="click_rate">25.0%<' in row


def test_list_queries_do_not_grow_with_campaigns(client, manager, template, django_assert_max_num_queries):
    client.force_login(manager)
    customers = make_customers(template.org, 3)
    for number in range(3):
        _sent(create_campaign(template, manager, name=f"C{number}"), customers, delivered=2)
    with django_assert_max_num_queries(100) as few:
        client.get(reverse("campaigns:list"))

    for number in range(3, 12):
        _sent(create_campaign(template, manager, name=f"C{number}"), customers, delivered=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("campaigns:list")).content.decode()

    assert page.count('data-figure="messages">3<') == 12


def test_filtered_list_queries_do_not_grow_with_campaigns(client, manager, template, django_assert_max_num_queries):
    # given campaigns that every filter matches (sending one-time SMS campaigns named "Sale ...")
    client.force_login(manager)
    customers = make_customers(template.org, 3)
    filters = {"q": "sale", "status": "in_progress", "channel": "sms", "kind": Campaign.Kind.ONE_TIME}

    def add_campaigns(numbers: range) -> None:
        for number in numbers:
            _sent(create_campaign(template, manager, name=f"Sale {number}"), customers, delivered=2)
        Campaign.objects.update(status=Campaign.Status.DISPATCHING)

    add_campaigns(range(3))
    with django_assert_max_num_queries(100) as unfiltered:
        client.get(reverse("campaigns:list"))
    with django_assert_max_num_queries(len(unfiltered.captured_queries)) as few:
        client.get(reverse("campaigns:list"), filters)

    # when four times as many match
    add_campaigns(range(3, 12))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("campaigns:list"), filters).content.decode()

    # then the filtered page takes no more queries than the unfiltered one did, and lists all twelve
    assert page.count('data-figure="messages">3<') == 12


def test_list_pages_past_fifty_campaigns(client, manager, template):
    for number in range(CAMPAIGNS_PER_PAGE + 1):
        create_campaign(template, manager, name=f"Campaign {number:03d}")
    client.force_login(manager)

    first = client.get(reverse("campaigns:list")).content.decode()
    second = client.get(reverse("campaigns:list"), {"page": 2}).content.decode()

    assert "Campaign 050" in first and "Campaign 000" not in first
    assert "Campaign 000" in second and "Page 2 of 2" in second


def test_list_adds_up_a_recurring_campaigns_runs_and_its_page_shows_each_run(client, manager, template):
    # given a recurring campaign with two runs: 4 messages (3 delivered, 1 clicker) and 2 messages (2 delivered)
    parent = create_campaign(template, manager, name="Weekly", kind=Campaign.Kind.RECURRING, schedule="0 10 * * 1")
    customers = make_customers(template.org, 4)
    runs = [CampaignFactory(org=parent.org, name=f"Weekly run {n}", template=template, parent=parent) for n in (1, 2)]
    first = _sent(runs[0], customers, delivered=3)
    _sent(runs[1], customers[:2], delivered=2)
    _click(_link(runs[0], "https://acme.test/sale"), first[0])
    client.force_login(manager)

    row = _row(client.get(reverse("campaigns:list")).content.decode(), parent)
    page = client.get(reverse("campaigns:detail", args=[parent.pk])).content.decode()

    assert 'data-figure="messages">6<' in row and 'data-figure="delivered">5 (83.3%)<' in row
    assert 'data-figure="unique_clicks">1<' in row and 'data-figure="click_rate">20.0%<' in row
    assert 'data-figure="runs_messages">6<' in page and 'data-figure="runs_unique_clicks">1<' in page
    assert "Weekly run 1" in page and "<td>4</td><td>3 (75.0%)</td><td>1</td><td>1</td>" in page


def test_campaign_page_lists_each_link_with_its_clicks_and_the_click_rate(client, manager, template):
    campaign = create_campaign(template, manager)
    messages = _sent(campaign, make_customers(template.org, 4), delivered=4)
    sale, help_page = _link(campaign, "https://acme.test/sale"), _link(campaign, "https://acme.test/help")
    for message in messages[:3]:
        _click(sale, message)
    client.force_login(manager)

    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert 'data-figure="click_rate">75.0%<' in page
    links = page[page.index('id="links"') :]
    assert links.index("https://acme.test/sale") < links.index("https://acme.test/help")
    assert f'data-link="{help_page.pk}"' in links and "<td>0</td><td>0</td>" in links


def test_another_orgs_campaigns_are_not_listed(client, outsider, template, manager):
    create_campaign(template, manager, name="Secret launch")
    client.force_login(outsider)

    assert "Secret launch" not in client.get(reverse("campaigns:list")).content.decode()


def test_resend_is_offered_only_when_some_recipients_were_not_reached(client, manager, template):
    reached = create_campaign(template, manager, name="All reached")
    missed = create_campaign(template, manager, name="Some missed")
    customers = make_customers(template.org, 3)
    _sent(reached, customers, delivered=3)
    _sent(missed, customers, delivered=2)
    Campaign.objects.update(status=Campaign.Status.DISPATCHED)
    client.force_login(manager)

    reached_page = client.get(reverse("campaigns:detail", args=[reached.pk])).content.decode()
    missed_page = client.get(reverse("campaigns:detail", args=[missed.pk])).content.decode()

    assert reverse("campaigns:resend", args=[reached.pk]) not in reached_page
    assert reverse("campaigns:resend", args=[missed.pk]) in missed_page


def test_the_organisation_column_shows_only_when_the_page_lists_several(client, manager, support, template, other_org):
    CampaignFactory(org=template.org, name="Ours", template=template)
    client.force_login(manager)
    assert "<th>Organisation</th>" not in client.get(reverse("campaigns:list")).content.decode()

    CampaignFactory(org=other_org, name="Theirs", template=template)
    client.force_login(support)
    page = client.get(reverse("campaigns:list")).content.decode()
    assert "<th>Organisation</th>" in page and "<td>Other Brand</td>" in page
