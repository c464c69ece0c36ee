"""Audiences: segments of customer attributes, checked when saved, evaluated for a campaign."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.customers.audience import audience_choices, audience_customers, audience_from_choice
from campaigns.customers.segments import customers_matching, segment_save
from campaigns.models import Campaign, Customer, Segment
from tests.factories import CustomerListFactory, SegmentFactory


@pytest.fixture
def shoppers(org):
    return {
        name: Customer.objects.create(org=org, name=name, mobile=mobile, attributes=attributes)
        for name, mobile, attributes in [
            ("Asha", "+919000000001", {"city": "Pune", "tier": "gold"}),
            ("Ravi", "+919000000002", {"city": "pune", "tier": "silver"}),
            ("Neha", "+919000000003", {"city": "Mumbai", "tier": "gold", "brand": "Acme Sports"}),
            ("Meera", "+919000000004", {}),
        ]
    }


def names(customers) -> set[str]:
    return set(customers.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([{"attribute": "city", "op": "eq", "value": "Pune"}], {"Asha", "Ravi"}),  # equality ignores case
        ([{"attribute": "city", "op": "ne", "value": "Pune"}], {"Neha", "Meera"}),  # no city is "not Pune" too
        ([{"attribute": "city", "op": "in", "value": ["Mumbai", "Delhi"]}], {"Neha"}),
        ([{"attribute": "city", "op": "in", "value": "pune, mumbai"}], {"Asha", "Ravi", "Neha"}),
        ([{"attribute": "brand", "op": "contains", "value": "sports"}], {"Neha"}),
        (
            [{"attribute": "city", "op": "eq", "value": "pune"}, {"attribute": "tier", "op": "eq", "value": "gold"}],
            {"Asha"},
        ),
    ],
)
def test_segment_conditions_select_the_matching_customers(org, other_org, shoppers, conditions, expected):
    Customer.objects.create(org=other_org, name="Elsewhere", mobile="+919000000009", attributes={"city": "Pune"})
    assert names(customers_matching(org=org, conditions=conditions)) == expected


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ([{"attribute": "city", "op": "between", "value": "a"}], "“between” is not a comparison"),
        ([{"attribute": "city", "op": "eq", "value": ""}], "the value is empty"),
        ([{"attribute": "city", "op": "in", "value": []}], "needs at least one value"),
        ([{"attribute": "city", "op": "in", "value": {"a": 1}}], "needs a list of values"),
        ([{"attribute": "city", "op": "eq", "value": ["x"]}], "the value must be a text"),
        ([{"attribute": "city__len", "op": "eq", "value": "3"}], "is not an attribute name"),
        (["city=Pune"], "is not an attribute, a comparison and a value"),
        ([], "at least one condition"),
        ("city", "must be a list"),
    ],
)
def test_bad_conditions_are_refused_when_the_segment_is_saved(org, conditions, message):
    with pytest.raises(ValidationError, match=message):
        segment_save(org=org, name="Bad", conditions=conditions)
    assert not Segment.objects.exists()


def test_a_saved_segment_is_stored_cleaned(org):
    segment = segment_save(
        org=org, name=" Gold in Pune ", conditions=[{"attribute": " City", "op": "in", "value": "Pune, ,Goa"}]
    )
    segment.refresh_from_db()
    assert segment.name == "Gold in Pune"
    assert segment.conditions == [{"attribute": "city", "op": "in", "value": ["Pune", "Goa"]}]


def test_a_campaign_targets_its_list_and_segment_within_its_org(org, template, shoppers):
    # given a list of three customers and a segment of gold customers
    customer_list = CustomerListFactory(org=org, name="Pune and Mumbai")
    customer_list.customers.add(shoppers["Asha"], shoppers["Ravi"], shoppers["Neha"])
    gold = segment_save(org=org, name="Gold", conditions=[{"attribute": "tier", "op": "eq", "value": "gold"}])

    # then the list, the segment, both, or neither each give the right customers
    def audience(**fields):
        return names(audience_customers(campaign=Campaign(org=org, template=template, **fields)))

    assert audience(audience_list=customer_list) == {"Asha", "Ravi", "Neha"}
    assert audience(audience_segment=gold) == {"Asha", "Neha"}
    assert audience(audience_list=customer_list, audience_segment=gold) == {"Asha", "Neha"}
    assert audience() == {"Asha", "Ravi", "Neha", "Meera"}


def test_a_stored_segment_with_a_bad_condition_is_a_clear_error_not_a_crash(org, template, shoppers):
    segment = SegmentFactory(org=org, name="Legacy", conditions=[{"attribute": "city", "op": "like"}])
    campaign = Campaign(org=org, template=template, audience_segment=segment)
    with pytest.raises(ValidationError, match="Segment “Legacy” cannot be used: Condition 1: “like” is not"):
        audience_customers(campaign=campaign)


def test_audience_choices_offer_all_lists_and_segments_of_one_org_only(org, other_org):
    mine = CustomerListFactory(org=org, name="VIP")
    segment = SegmentFactory(org=org, name="Gold", conditions=[])
    theirs = CustomerListFactory(org=other_org, name="Theirs")

    choices = audience_choices(org=org)

    assert choices == [
        ("all", "All customers of Acme Retail"),
        (f"list:{mine.pk}", "List: VIP"),
        (f"segment:{segment.pk}", "Segment: Gold"),
    ]
    assert audience_from_choice(org=org, choice=f"list:{mine.pk}") == {"audience_list": mine, "audience_segment": None}
    assert audience_from_choice(org=org, choice=f"segment:{segment.pk}")["audience_segment"] == segment
    assert audience_from_choice(org=org, choice="all") == {"audience_list": None, "audience_segment": None}
    for refused in (f"list:{theirs.pk}", "list:x", "group:1"):
        with pytest.raises(ValidationError, match="Choose who receives the campaign"):
            audience_from_choice(org=org, choice=refused)
