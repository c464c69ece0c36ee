"""From a campaign's page, a list of its clickers (or of those who got it and did not click) for a follow-up."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.customers.follow_up import CLICKED, NOT_CLICKED
from campaigns.models import Customer, CustomerList
from delivery.models import Message
from tests.factories import CustomerListFactory, create_campaign, make_customers
from tests.helpers import launch

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
WHATSAPP = "WhatsApp/2.23.20.0 A"


def _sent(template, manager, capture, count: int) -> tuple:
    """A campaign sent to `count` customers: the first four delivered, the rest not delivered."""
    customers = make_customers(template.org, count)
    campaign = launch(create_campaign(template, manager), manager, capture)
    by_customer = {m.customer_id: m for m in Message.objects.filter(campaign=campaign)}
    messages = [by_customer[customer.pk] for customer in customers]
    Message.objects.filter(pk__in=[m.pk for m in messages[:4]]).update(status=Message.Status.DELIVERED)
    Message.objects.filter(pk__in=[m.pk for m in messages[4:]]).update(status=Message.Status.NOT_DELIVERED)
    return campaign, customers, messages


def _click(client, message: Message, agent: str = PHONE) -> None:
    code = re.search(r"/s/(\w+)", message.body).group(1)
    assert client.get(f"/s/{code}", HTTP_USER_AGENT=agent).status_code == 302


@pytest.fixture
def sent(template, manager, django_capture_on_commit_callbacks):
    return _sent(template, manager, django_capture_on_commit_callbacks, 6)


def test_the_list_of_clickers_holds_each_person_who_clicked_once_and_no_link_preview(client, manager, sent):
    # given customer 0 clicked twice, customer 1 once, and only WhatsApp's preview fetched customer 2's link
    campaign, customers, messages = sent
    _click(client, messages[0])
    _click(client, messages[0])
    _click(client, messages[1])
    _click(client, messages[2], agent=WHATSAPP)

    # when the manager makes the clickers' list from the campaign page
    client.force_login(manager)
    response = client.post(reverse("campaigns:follow-up-list", args=[campaign.pk]), {"who": CLICKED}, follow=True)

    # then the list holds customers 0 and 1, and its page says so
    made = CustomerList.objects.get(name=f"{campaign.name}: clicked a link")
    assert set(made.customers.values_list("pk", flat=True)) == {customers[0].pk, customers[1].pk}
    assert response.redirect_chain[-1][0] == reverse("campaigns:list-detail", args=[made.pk])
    assert f"List “{made.name}” made with 2 customers" in response.content.decode()


def test_the_list_of_non_clickers_holds_those_delivered_who_did_not_click(client, manager, sent):
    # given 4 delivered (0-3), 2 not delivered (4, 5); customer 0 clicked and customer 4 clicked a forwarded link
    campaign, customers, messages = sent
    _click(client, messages[0])
    _click(client, messages[2], agent=WHATSAPP)
    _click(client, messages[4])

    # when the manager makes the non-clickers' list under a name of their own
    client.force_login(manager)
    client.post(reverse("campaigns:follow-up-list", args=[campaign.pk]), {"who": NOT_CLICKED, "name": "Nudge"})

    # then it holds the delivered customers who did not click: 1, 2 (a preview is no click) and 3
    made = CustomerList.objects.get(name="Nudge")
    assert set(made.customers.values_list("pk", flat=True)) == {c.pk for c in customers[1:4]}


def test_a_taken_name_is_refused_in_words_and_makes_nothing(client, manager, sent):
    campaign, _, _ = sent
    CustomerListFactory(org=campaign.org, name="Nudge")
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:follow-up-list", args=[campaign.pk]), {"who": NOT_CLICKED, "name": "Nudge"}, follow=True
    )
    assert "There is already a list called “Nudge”" in response.content.decode()
    assert CustomerList.objects.filter(org=campaign.org).count() == 1


def test_another_orgs_campaign_is_a_404_and_a_get_is_refused(client, outsider, manager, sent):
    campaign, _, _ = sent
    client.force_login(outsider)
    assert client.post(reverse("campaigns:follow-up-list", args=[campaign.pk]), {"who": CLICKED}).status_code == 404
    client.force_login(manager)
    assert client.get(reverse("campaigns:follow-up-list", args=[campaign.pk])).status_code == 405
    assert client.post(reverse("campaigns:follow-up-list", args=[campaign.pk]), {"who": "all"}).status_code == 404
    assert not CustomerList.objects.exists()


def test_making_the_list_takes_the_same_queries_for_5_and_for_60_recipients(
    client, manager, template, django_capture_on_commit_callbacks
):
    # given two campaigns, to 5 and to 60 customers, each clicked by half its recipients
    client.force_login(manager)
    queries = []
    for count in (5, 60):
        Customer.objects.all().delete()  # each campaign goes to customers of its own
        campaign, _, messages = _sent(template, manager, django_capture_on_commit_callbacks, count)
        for message in messages[: count // 2]:
            _click(client, message)
        campaign.name = f"Sent to {count}"
        campaign.save(update_fields=["name"])
        # when each one's clickers become a list
        with CaptureQueriesContext(connection) as captured:
            client.post(reverse("campaigns:follow-up-list", args=[campaign.pk]), {"who": CLICKED})
        queries.append(len(captured))
        assert CustomerList.objects.get(name=f"Sent to {count}: clicked a link").customers.count() == count // 2
    # then both take the same number of queries: the list is filled in SQL, not customer by customer
    assert queries[0] == queries[1]


def test_the_campaign_page_offers_both_lists_and_its_link_settings(client, manager, sent):
    campaign, _, _ = sent
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    form = page[page.index('<section class="card" id="follow-up">') :]
    assert f'action="{reverse("campaigns:follow-up-list", args=[campaign.pk])}"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'value="clicked"' in form and 'value="not_clicked"' in form
    assert reverse("campaigns:link-settings", args=[campaign.pk]) in page and "links never expire" in page
