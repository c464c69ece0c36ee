"""Lists and segments as a manager changes them: create, rename, delete (refused while a campaign needs them),
customers put on and taken off lists, one by one or every customer of a search at once."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.customers.audience import (
    audience_campaigns,
    customer_list_add_matching,
    customer_list_create,
    customer_list_delete,
    customer_list_remove,
    customer_list_rename,
    customer_lists_add,
    segment_delete,
)
from campaigns.models import Campaign, Customer, CustomerList, Segment
from tests.factories import CustomerListFactory, SegmentFactory, make_customers

CITY_IS_PUNE = [{"attribute": "city", "op": "eq", "value": "Pune"}]


@pytest.fixture
def segment(org) -> Segment:
    return SegmentFactory(org=org, name="Pune", conditions=CITY_IS_PUNE)


@pytest.fixture
def vip(org) -> CustomerList:
    return CustomerListFactory(org=org, name="VIP")


def campaign_for(template, status: str, **audience) -> Campaign:
    return Campaign.objects.create(
        org=template.org, name=f"{status} campaign", template=template, status=status, **audience
    )


def test_a_list_is_created_empty_and_renamed(org):
    customer_list = customer_list_create(org=org, name="  Diwali 2026 ")
    assert customer_list.name == "Diwali 2026" and customer_list.customers.count() == 0

    customer_list_rename(customer_list=customer_list, name="Diwali VIPs")
    assert CustomerList.objects.get(pk=customer_list.pk).name == "Diwali VIPs"


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Give the list a name."), ("VIP", "There is already a list called “VIP”"), ("x" * 201, "at most 200")],
)
def test_a_list_name_must_be_given_unique_and_short(org, vip, name, message):
    with pytest.raises(ValidationError) as refused:
        customer_list_create(org=org, name=name)
    assert message in str(refused.value)
    other = customer_list_create(org=org, name="Other")
    with pytest.raises(ValidationError):
        customer_list_rename(customer_list=other, name=name)
    assert CustomerList.objects.get(pk=other.pk).name == "Other"


def test_the_same_list_name_is_free_in_another_org_and_renaming_to_itself_is_allowed(org, other_org, vip):
    assert customer_list_create(org=other_org, name="VIP").org == other_org
    assert customer_list_rename(customer_list=vip, name="VIP").name == "VIP"


@pytest.mark.parametrize("status", ["draft", "scheduled", "active", "dispatching", "paused"])
def test_a_list_or_segment_a_campaign_still_needs_cannot_be_deleted(template, vip, segment, status):
    campaign_for(template, status, audience_list=vip)
    campaign_for(template, status, audience_segment=segment)

    with pytest.raises(ValidationError) as refused:
        customer_list_delete(customer_list=vip)
    assert f"“{status} campaign”" in str(refused.value) and "List “VIP” cannot be deleted" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        segment_delete(segment=segment)
    assert f"“{status} campaign”" in str(refused.value)
    assert CustomerList.objects.filter(pk=vip.pk).exists() and Segment.objects.filter(pk=segment.pk).exists()


@pytest.mark.parametrize("status", ["dispatched", "cancelled"])
def test_deleting_a_list_or_segment_keeps_finished_campaigns_and_their_customers(template, org, vip, segment, status):
    customers = make_customers(org, 2)
    vip.customers.add(*customers)
    sent_to_list = campaign_for(template, status, audience_list=vip)
    sent_to_segment = campaign_for(template, status, audience_segment=segment)

    assert customer_list_delete(customer_list=vip) == 1
    assert segment_delete(segment=segment) == 1

    assert not CustomerList.objects.filter(pk=vip.pk).exists() and not Segment.objects.filter(pk=segment.pk).exists()
    assert Customer.objects.filter(org=org).count() == 2
    assert Campaign.objects.get(pk=sent_to_list.pk).status == status
    assert Campaign.objects.get(pk=sent_to_segment.pk).status == status


def test_audience_campaigns_tells_the_ones_in_use_from_the_finished(template, vip):
    scheduled = campaign_for(template, "scheduled", audience_list=vip)
    campaign_for(template, "dispatched", audience_list=vip)
    assert audience_campaigns(customer_list=vip) == {"in_use": [scheduled], "finished": 1}


def test_a_customer_is_put_on_lists_once_and_taken_off(org, vip):
    customer = make_customers(org, 1)[0]
    diwali = CustomerListFactory(org=org, name="Diwali")
    vip.customers.add(customer)

    added = customer_lists_add(customer=customer, customer_lists=[vip, diwali])

    assert added == [diwali] and set(customer.lists.all()) == {vip, diwali}
    assert customer_list_remove(customer_list=vip, customer=customer) is True
    assert customer_list_remove(customer_list=vip, customer=customer) is False
    assert list(customer.lists.all()) == [diwali] and Customer.objects.filter(pk=customer.pk).exists()


def test_a_customer_cannot_be_put_on_another_orgs_list(org, other_org):
    customer = make_customers(org, 1)[0]
    theirs = CustomerListFactory(org=other_org, name="Theirs")
    with pytest.raises(ValidationError):
        customer_lists_add(customer=customer, customer_lists=[theirs])
    assert not theirs.customers.exists()


def test_every_matching_customer_of_the_lists_org_is_added_in_one_statement(org, other_org, vip):
    ours = make_customers(org, 30)
    Customer.objects.create(org=other_org, name="Customer 1 elsewhere", mobile="+919111111111")
    vip.customers.add(ours[0])
    matching = Customer.objects.filter(name__startswith="Customer 1")  # 1, 10-19 of ours and the other org's

    with CaptureQueriesContext(connection) as queries:
        added = customer_list_add_matching(customer_list=vip, customers=matching)

    assert added == 10 and len([q for q in queries if q["sql"].startswith("INSERT")]) == 1
    assert set(vip.customers.values_list("name", flat=True)) == {"Customer 1"} | {
        f"Customer {n}" for n in range(10, 20)
    }
    assert customer_list_add_matching(customer_list=vip, customers=matching) == 0
