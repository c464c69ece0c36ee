"""Erasure is refused while a campaign still sends to the customer, says so when done again, and costs the same
queries however much they received."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.customers.erasure import customer_erase
from campaigns.customers.unsubscribes import customer_unsubscribe
from campaigns.models import Campaign, Coupon, Customer, CustomerList, Template
from delivery.models import GatewayExchange, Message
from linktrack.models import Click, ShortLink
from tests.campaigns.customers.erasure.helpers import MOBILE, NAME, PHONE
from tests.factories import CustomerListFactory, create_campaign, make_customers, store_clicks

# --- Refused while a campaign still sends to them, idempotent ------------------------------------------------------


def test_erasure_is_refused_while_a_campaign_still_sends_to_them(manager, sent, asha):
    # given Asha's message of "Diwali" still waiting to be handed to the gateway
    Message.objects.filter(campaign=sent, customer=asha).update(status=Message.Status.QUEUED, reason_code="")

    # when her personal data is to be erased, then it is refused, naming the campaign, and nothing changes
    with pytest.raises(ValidationError) as refused:
        customer_erase(customer=asha, user=manager)
    assert "“Diwali” is still sending to them" in refused.value.messages[0]
    asha.refresh_from_db()
    assert asha.name == NAME and asha.erased_at is None and asha.coupons.exists()
    assert Message.objects.get(campaign=sent, customer=asha).recipient == MOBILE


def test_erasure_is_refused_while_a_campaign_being_prepared_has_not_reached_them(manager, template, sent, asha):
    # given a campaign to every customer being prepared that has not messaged Asha yet
    preparing = create_campaign(template, manager, name="Flash sale")
    Campaign.objects.filter(pk=preparing.pk).update(status=Campaign.Status.DISPATCHING)

    # then erasing her is refused, naming it
    with pytest.raises(ValidationError, match="“Flash sale” is still sending"):
        customer_erase(customer=asha, user=manager)

    # once it has messaged her (her message final), erasing her is allowed
    Message.objects.create(
        campaign=preparing, customer=asha, channel="sms", recipient=MOBILE, status=Message.Status.NOT_SENT
    )
    assert customer_erase(customer=asha, user=manager).messages == 2


def test_erasing_again_changes_nothing_and_says_so(manager, support, sent, asha):
    # given Asha erased
    first = customer_erase(customer=asha, user=manager)
    asha.refresh_from_db()
    erased_at, updated_at = asha.erased_at, asha.updated_at

    # when she is erased again, by someone else
    again = customer_erase(customer=asha, user=support)

    # then nothing changes and the result says she already was
    assert not first.already_erased and again.already_erased
    assert "already erased" in again.in_words
    asha.refresh_from_db()
    assert (asha.erased_at, asha.updated_at, asha.erased_by) == (erased_at, updated_at, manager)


def _with_history(customer: Customer, count: int, *, template: Template, customer_list: CustomerList) -> None:
    """`count` dispatched campaigns to the customer, each message with two gateway log entries and two clicks; the
    customer unsubscribed from SMS, with a coupon and on the list."""
    org = template.org
    campaigns = Campaign.objects.bulk_create(
        [Campaign(org=org, name=f"C{n}", template=template, status=Campaign.Status.DISPATCHED) for n in range(count)]
    )
    links = ShortLink.objects.bulk_create(
        [ShortLink(campaign=campaign, destination="https://acme.test/") for campaign in campaigns]
    )
    messages = Message.objects.bulk_create(
        [
            Message(
                campaign=campaign,
                customer=customer,
                channel="sms",
                recipient=customer.mobile,
                body="Hi",
                status=Message.Status.DELIVERED,
            )
            for campaign in campaigns
        ]
    )
    GatewayExchange.objects.bulk_create(
        [
            GatewayExchange(message=message, gateway_kind="simulated", operation=operation, request=message.recipient)
            for message in messages
            for operation in ("submit", "receipt")
        ]
    )
    store_clicks(
        [
            Click(
                event_id=f"{message.pk}-{n}",
                short_link=link,
                campaign_id=message.campaign_id,
                message=message,
                channel="sms",
                clicked_at=timezone.now(),
                ip_hash="ab" * 32,
                user_agent=PHONE,
            )
            for message, link in zip(messages, links, strict=True)
            for n in range(2)
        ]
    )
    Coupon.objects.create(customer=customer, code="C", expires_on=date(2026, 12, 31))
    customer_list.customers.add(customer)
    customer_unsubscribe(customer=customer, channel="sms", source="manual")


def test_the_query_count_does_not_grow_with_messages_and_clicks(org, template, django_assert_num_queries):
    # given two customers, one with 3 messages and one with 30, each message with two gateway log entries and two
    # clicks, each customer unsubscribed from SMS, with a coupon and on a list
    few, many = make_customers(org, 2)
    customer_list = CustomerListFactory(org=org, name="All")
    for customer, count in ((few, 3), (many, 30)):
        _with_history(customer, count, template=template, customer_list=customer_list)

    # when each is erased, then the same queries do it: savepoint, lock the org's campaigns that may send, lock the
    # customer, messages still sending, unsubscribe channels, their update, messages, gateway log, clicks, coupons,
    # lists, the customer, release
    with django_assert_num_queries(14):
        assert customer_erase(customer=few, user=None).clicks == 6
    with django_assert_num_queries(14):
        assert customer_erase(customer=many, user=None).clicks == 60
