"""The message page: a message's text as sent, its short links and their clicks, sender and DLT ids, its status
history with the reason in words, and (for support staff) its gateway log; another org's message is a 404."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from delivery.models import GatewayExchange, Message
from linktrack.models import ShortLink
from tests.factories import store_click

BOT = "WhatsApp/2.23.20.0"


@pytest.fixture
def sent(send_campaign, customers):
    """A campaign of the org's template sent to its 10 customers through the simulated gateway."""
    return send_campaign(name="Diwali sale")


def _message_with_clicks(campaign) -> Message:
    message = Message.objects.filter(campaign=campaign, customer__isnull=False).order_by("pk").first()
    link = ShortLink.objects.get(campaign=campaign)
    for user_agent in ("Mozilla/5.0 (iPhone)", "Mozilla/5.0 (iPhone)", BOT):
        store_click(
            short_link=link,
            campaign=campaign,
            message=message,
            channel="sms",
            clicked_at=timezone.now(),
            user_agent=user_agent,
            is_bot=user_agent == BOT,
        )
    return message


def test_the_message_page_shows_the_text_as_sent_its_link_and_its_own_clicks(client, manager, sent):
    # given a sent message whose link a person clicked twice and a link preview once
    message = _message_with_clicks(sent)

    # when the manager opens its page
    client.force_login(manager)
    page = client.get(reverse("delivery:message", args=[message.pk])).content.decode()

    # then it shows the text exactly as sent, with the short link it carried and its 2 clicks by a person
    assert f'id="message-text">{message.body}</pre>' in page
    short_url = re.search(r"\S+/[0-9A-Z]{10}", message.body).group(0)
    assert short_url in page and "https://acme.test/t" in page
    assert "<td data-clicks>2 " in page and "(and 1 by link previews, not counted)" in page
    # and the sender, the DLT ids and the status history
    assert 'data-message="sender">ACMERT<' in page
    assert 'data-message="dlt_entity_id">1701160000000000001<' in page
    assert 'data-message="dlt_template_id">1707160000000000001<' in page
    assert "Prepared (checked and written" in page and "Accepted by the gateway" in page
    # and a manager is told support reads the gateway log, without seeing it
    assert 'id="gateway-log-for-support"' in page and 'id="gateway-log"' not in page


def test_a_message_not_sent_says_why_in_words_from_the_catalogue(client, manager, sent):
    # given a message that ended not sent because the customer unsubscribed
    message = Message.objects.filter(campaign=sent).order_by("pk").last()
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.NOT_SENT, reason_code="unsubscribed", finished_at=timezone.now()
    )

    # when the manager opens it
    client.force_login(manager)
    page = client.get(reverse("delivery:message", args=[message.pk])).content.decode()

    # then the outcome and the history give the catalogue's words, never the raw code
    assert 'data-message="reason">Customer unsubscribed<' in page
    assert "Not sent: Customer unsubscribed. These customers asked not to receive messages" in page
    assert ">unsubscribed<" not in page


def test_support_staff_open_any_orgs_message_with_its_gateway_log(client, support, sent):
    message = Message.objects.filter(campaign=sent).order_by("pk").first()
    assert GatewayExchange.objects.filter(message=message).exists()

    client.force_login(support)
    page = client.get(reverse("delivery:message", args=[message.pk])).content.decode()

    assert 'id="gateway-log"' in page and "Submit (simulated)" in page


def test_another_orgs_message_is_not_found(client, outsider, sent):
    message = Message.objects.filter(campaign=sent).first()
    client.force_login(outsider)
    assert client.get(reverse("delivery:message", args=[message.pk])).status_code == 404
    assert client.get(reverse("delivery:message", args=[999_999])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, sent):
    message = Message.objects.filter(campaign=sent).first()
    response = client.get(reverse("delivery:message", args=[message.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_view_details_rows_and_the_customers_messages_link_to_the_message_page(client, manager, sent):
    # given a message that was not delivered
    message = Message.objects.filter(campaign=sent).order_by("pk").first()
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.NOT_DELIVERED, reason_code="expired", finished_at=timezone.now()
    )
    client.force_login(manager)
    url = reverse("delivery:message", args=[message.pk])

    # then View Details' sample and the customer's page link to its page
    details = client.get(reverse("delivery:details", args=[sent.pk, "not_delivered"])).content.decode()
    customer = client.get(reverse("campaigns:customer-detail", args=[message.customer_id])).content.decode()
    assert f'href="{url}"' in details and f'href="{url}"' in customer
