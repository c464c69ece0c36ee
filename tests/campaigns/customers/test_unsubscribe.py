"""Unsubscribes per channel, recorded with how, when and who; re-subscribing keeps the history."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.customers.unsubscribes import customer_resubscribe, customer_unsubscribe
from campaigns.models import Customer, Unsubscribe


@pytest.fixture
def customer(org):
    return Customer.objects.create(org=org, name="Asha", mobile="+919000000001", email="asha@example.com")


def test_unsubscribing_from_sms_keeps_email_and_records_who(customer, manager):
    # when a manager unsubscribes the customer from SMS by hand
    changed = customer_unsubscribe(
        customer=customer, channel="sms", source=Unsubscribe.Source.MANUAL, note="asked on the phone", user=manager
    )

    # then SMS is off, email stays on, and the history says how and by whom
    customer.refresh_from_db()
    assert changed and not customer.sms_subscribed and customer.email_subscribed
    record = Unsubscribe.objects.get(customer=customer)
    assert (record.channel, record.source) == ("sms", "manual")
    assert record.note == "by manager@acme.test — asked on the phone"
    assert record.created_at is not None


def test_unsubscribing_twice_records_once(customer):
    assert customer_unsubscribe(customer=customer, channel="email", source="stop_reply")
    assert not customer_unsubscribe(customer=customer, channel="email", source="stop_reply")
    assert Unsubscribe.objects.filter(customer=customer).count() == 1


def test_the_existing_keyword_arguments_still_work(customer):
    assert customer_unsubscribe(customer=customer, channel="sms", source="stop_reply", note="STOP")
    assert Unsubscribe.objects.get().note == "STOP"


def test_resubscribing_turns_the_channel_back_on_and_keeps_history(customer, manager):
    customer_unsubscribe(customer=customer, channel="sms", source="manual", user=manager)

    assert customer_resubscribe(customer=customer, channel="sms", user=manager)
    assert not customer_resubscribe(customer=customer, channel="sms", user=manager)

    customer.refresh_from_db()
    assert customer.sms_subscribed
    assert Unsubscribe.objects.filter(customer=customer).count() == 1


def test_an_unknown_channel_is_refused(customer):
    with pytest.raises(ValidationError, match="“fax” is not a channel"):
        customer_unsubscribe(customer=customer, channel="fax", source="manual")
    with pytest.raises(ValidationError, match="“fax” is not a channel"):
        customer_resubscribe(customer=customer, channel="fax")
