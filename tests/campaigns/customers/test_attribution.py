"""Attribution: which campaign a purchase counts for (the org's window on its clock, last touch, clicks before
buying), and the sales counters kept as transactions arrive, change and find their customer."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.customers.attribution import transactions_reattribute_recent
from campaigns.models import Transaction, TransactionChange
from delivery.models import Message
from tests.campaigns.customers.transactions_helpers import buy, click, ist, reached, sales
from tests.factories import CustomerFactory


@pytest.fixture
def customer(org):
    return CustomerFactory(org=org, external_id="C1", mobile="+919810000001")


def test_a_purchase_counts_until_the_end_of_the_seventh_day_after_delivery_on_the_orgs_clock(org, template, customer):
    # given a message delivered at 23:30 on 1 November, India time (18:00 UTC), and the default window of 7 days
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 23, 30))

    # when the customer buys at 23:59 on 8 November and again at 00:00 on 9 November, India time
    buy(org, "last-minute", ist(2026, 11, 8, 23, 59, 59), "500.00")
    buy(org, "a-day-late", ist(2026, 11, 9, 0, 0), "700.00")

    # then only the first counts: the window ends with the 7th day after the day of delivery, on the org's clock
    assert Transaction.objects.get(transaction_id="last-minute").message_campaign == campaign
    assert Transaction.objects.get(transaction_id="a-day-late").message_campaign is None
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("500.00"))


def test_the_window_follows_the_orgs_time_zone(org, template, customer):
    # given an org on London time: delivered at 23:30 on 1 November there
    org.timezone = "Europe/London"
    org.save()
    london = ZoneInfo("Europe/London")
    campaign, _ = reached(template, customer, datetime(2026, 11, 1, 23, 30, tzinfo=london))

    # when they buy at 23:59 London on 8 November (05:29 on 9 November in India)
    buy(org, "london", datetime(2026, 11, 8, 23, 59, tzinfo=london))

    # then it counts: the days are the org's
    assert Transaction.objects.get(transaction_id="london").message_campaign == campaign


def test_a_purchase_before_the_message_never_counts(org, template, customer):
    campaign, message = reached(template, customer, ist(2026, 11, 10, 12, 0))
    click(message, ist(2026, 11, 10, 12, 5))

    buy(org, "before", ist(2026, 11, 10, 11, 59))

    row = Transaction.objects.get(transaction_id="before")
    assert (row.message_campaign, row.click_campaign) == (None, None)
    assert sales(campaign) == (0, Decimal(0), 0, Decimal(0))


def test_last_touch_between_two_campaigns_and_a_click_on_the_earlier_one(org, template, customer):
    # given campaign A delivered on the 1st and clicked on the 2nd, then campaign B delivered on the 3rd, not clicked
    first, first_message = reached(template, customer, ist(2026, 11, 1, 10, 0), name="A")
    click(first_message, ist(2026, 11, 2, 9, 0))
    second, _ = reached(template, customer, ist(2026, 11, 3, 10, 0), name="B")

    # when the customer buys on the 4th
    buy(org, "order-1", ist(2026, 11, 4, 10, 0), "1000.00")

    # then by its message the purchase counts for B only (the latest before it), and as bought after a click for A
    # only (the latest message they clicked): each rule gives it to one campaign
    row = Transaction.objects.get(transaction_id="order-1")
    assert (row.message_campaign, row.click_campaign) == (second, first)
    assert sales(first) == (1, Decimal("1000.00"), 0, Decimal(0))
    assert sales(second) == (0, Decimal(0), 1, Decimal("1000.00"))


def test_a_click_after_buying_is_no_click_conversion(org, template, customer):
    campaign, message = reached(template, customer, ist(2026, 11, 1, 10, 0))
    buy(org, "order-1", ist(2026, 11, 1, 11, 0))
    click(message, ist(2026, 11, 1, 12, 0))
    transactions_reattribute_recent()

    assert sales(campaign) == (0, Decimal(0), 1, Decimal("100.00"))


def test_sent_where_delivery_is_unknown_counts_from_sending(org, template, customer):
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 10, 0), status="unknown")
    buy(org, "order-1", ist(2026, 11, 1, 10, 1))
    assert Transaction.objects.get(transaction_id="order-1").message_campaign == campaign


def test_a_message_that_was_not_delivered_never_counts(org, template, customer):
    reached(template, customer, ist(2026, 11, 1, 10, 0), status="not_delivered")
    buy(org, "order-1", ist(2026, 11, 1, 10, 1))
    assert Transaction.objects.get(transaction_id="order-1").message_campaign is None


def test_the_same_transaction_sent_twice_changes_nothing_and_a_new_amount_is_a_recorded_update(org, template, customer):
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 10, 0))
    first = buy(org, "order-1", ist(2026, 11, 2, 10, 0), "999.00")

    again = buy(org, "order-1", ist(2026, 11, 2, 10, 0), "999.00")

    assert (first.created, again.created, again.updated, again.unchanged) == (1, 0, 0, 1)
    assert Transaction.objects.count() == 1
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("999.00"))
    assert not TransactionChange.objects.exists()

    # when it comes a third time with a partial refund
    changed = buy(org, "order-1", ist(2026, 11, 2, 10, 0), "499.00")

    # then the amount is updated, the change recorded, and the campaign's revenue follows
    assert changed.updated == 1
    change = TransactionChange.objects.get()
    assert (change.old_amount, change.new_amount, change.source) == (Decimal("999.00"), Decimal("499.00"), "api")
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("499.00"))


def test_a_late_receipt_saying_not_delivered_takes_the_purchase_off_the_campaign(org, template, customer):
    # given a message sent, waiting for its receipt, and a purchase after it (counted: delivery not known yet)
    now = timezone.now()
    campaign, message = reached(template, customer, now - timedelta(hours=2), status="sent")
    buy(org, "order-1", now - timedelta(hours=1))
    assert sales(campaign)[2] == 1

    # when the receipt says it was not delivered, and the periodic job runs
    Message.objects.filter(pk=message.pk).update(status=Message.Status.NOT_DELIVERED, finished_at=now)
    transactions_reattribute_recent()

    # then the purchase no longer counts for the campaign
    assert Transaction.objects.get().message_campaign is None
    assert sales(campaign) == (0, Decimal(0), 0, Decimal(0))


def test_buyers_are_counted_once_each_and_revenue_adds_up(org, template, customer):
    campaign, message = reached(template, customer, ist(2026, 11, 1, 10, 0))
    click(message, ist(2026, 11, 1, 10, 5))
    buy(org, "order-1", ist(2026, 11, 1, 11, 0), "100.00")
    buy(org, "order-2", ist(2026, 11, 2, 11, 0), "250.50")
    buy(org, "order-3", ist(2026, 11, 2, 12, 0), "10.00", currency="USD")

    assert sales(campaign) == (1, Decimal("350.50"), 0, Decimal(0))
