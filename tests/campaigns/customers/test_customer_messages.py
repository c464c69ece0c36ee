"""A customer's page lists the messages sent to them, what became of each (in words) and their clicks."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delivery.models import Message
from tests.factories import create_campaign, make_customers
from tests.helpers import launch

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


def _send(template, manager, capture, name: str) -> dict[int, Message]:
    campaign = launch(create_campaign(template, manager, name=name), manager, capture)
    return {m.customer_id: m for m in Message.objects.filter(campaign=campaign)}


def _row(page: str, message: Message) -> str:
    return re.search(rf'<tr data-message="{message.pk}">(.*?)</tr>', page, re.S).group(1)


def test_the_customer_page_shows_each_message_its_outcome_in_words_and_human_clicks(
    client, manager, template, django_capture_on_commit_callbacks
):
    # given two campaigns to a customer: the first delivered and clicked twice (and fetched by a preview bot), the
    # second refused by the operator for its DLT template
    customer = make_customers(template.org, 1)[0]
    first = _send(template, manager, django_capture_on_commit_callbacks, "Diwali sale")[customer.pk]
    second = _send(template, manager, django_capture_on_commit_callbacks, "Winter sale")[customer.pk]
    Message.objects.filter(pk=first.pk).update(status=Message.Status.DELIVERED, reason_code="", gateway_error="")
    Message.objects.filter(pk=second.pk).update(
        status=Message.Status.NOT_DELIVERED, reason_code="dlt_template", gateway_error="DLT:630"
    )
    code = re.search(r"/s/(\w+)", first.body).group(1)
    for agent in (PHONE, PHONE, "WhatsApp/2.23.20.0 A"):
        client.get(f"/s/{code}", HTTP_USER_AGENT=agent)

    # when the manager opens the customer's page
    client.force_login(manager)
    page = client.get(reverse("campaigns:customer-detail", args=[customer.pk])).content.decode()

    # then both messages are listed with their outcome and the clicks of a person
    delivered, refused = _row(page, first), _row(page, second)
    assert "Diwali sale" in delivered and "<td data-outcome>Delivered</td>" in delivered
    assert "<td data-clicks>2</td>" in delivered
    assert "Winter sale" in refused and "Not delivered: " in refused and "DLT template error" in refused
    assert "DLT:630" in refused and "<td data-clicks>0</td>" in refused
    assert "gateway log" not in page  # the gateway log is for support staff


def test_the_message_list_takes_the_same_queries_for_one_message_and_for_three(
    client, manager, template, django_capture_on_commit_callbacks
):
    # given three campaigns to two customers, and the first customer's last two messages gone
    one, three = make_customers(template.org, 2)
    for name in ("First", "Second", "Third"):
        _send(template, manager, django_capture_on_commit_callbacks, name)
    Message.objects.filter(customer=one, campaign__name__in=["Second", "Third"]).delete()
    # when each customer's page is opened, then it takes the same queries for one message as for three
    client.force_login(manager)
    counts = []
    for customer in (one, three):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("campaigns:customer-detail", args=[customer.pk])).content.decode()
        counts.append(len(captured))
        assert page.count("<tr data-message=") == (1 if customer == one else 3)
    assert counts[0] == counts[1]


def test_a_customer_without_messages_says_so_and_support_sees_the_gateway_log_link(
    client, support, manager, template, django_capture_on_commit_callbacks
):
    quiet, reached = make_customers(template.org, 2)
    Message.objects.filter(customer=quiet).delete()
    client.force_login(manager)
    page = client.get(reverse("campaigns:customer-detail", args=[quiet.pk])).content.decode()
    assert "No message has been sent to this customer yet." in page

    message = _send(template, manager, django_capture_on_commit_callbacks, "Sale")[reached.pk]
    client.force_login(support)
    page = client.get(reverse("campaigns:customer-detail", args=[reached.pk])).content.decode()
    assert reverse("delivery:message", args=[message.pk]) in page
