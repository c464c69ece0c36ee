"""List and segment pages: a manager creates, renames, edits and deletes them, puts customers on and off lists,
and adds every customer of a search to a list; other orgs' objects are 404, visitors go to the login page."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.lifecycle import services
from campaigns.models import Campaign, Customer, CustomerList, Segment
from tests.factories import CustomerListFactory, SegmentFactory, make_customers

CITY_IS_PUNE = [{"attribute": "city", "op": "eq", "value": "Pune"}]


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def vip(org) -> CustomerList:
    return CustomerListFactory(org=org, name="VIP")


@pytest.fixture
def segment(org) -> Segment:
    return SegmentFactory(org=org, name="Pune", conditions=CITY_IS_PUNE)


@pytest.fixture
def theirs(other_org):
    customer = Customer.objects.create(org=other_org, name="Their customer", mobile="+919111111111")
    customer_list = CustomerListFactory(org=other_org, name="Their list")
    customer_list.customers.add(customer)
    segment = SegmentFactory(org=other_org, name="Their segment", conditions=CITY_IS_PUNE)
    return customer, customer_list, segment


def messages_of(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def campaign_for(template, status: str, **audience) -> Campaign:
    return Campaign.objects.create(
        org=template.org, name=f"Diwali {status}", template=template, status=status, **audience
    )


# --- Who may do what ---------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login_and_nothing_changes(client, theirs):
    customer, customer_list, segment = theirs
    gets = [
        reverse("campaigns:list-new"),
        reverse("campaigns:list-edit", args=[customer_list.pk]),
        reverse("campaigns:list-delete", args=[customer_list.pk]),
        reverse("campaigns:segment-edit", args=[segment.pk]),
        reverse("campaigns:segment-delete", args=[segment.pk]),
    ]
    posts = [
        (reverse("campaigns:list-new"), {"org": customer.org_id, "name": "New"}),
        (reverse("campaigns:list-edit", args=[customer_list.pk]), {"name": "Renamed"}),
        (reverse("campaigns:list-delete", args=[customer_list.pk]), {}),
        (reverse("campaigns:list-remove", args=[customer_list.pk]), {"customer": customer.pk}),
        (reverse("campaigns:customer-lists", args=[customer.pk]), {"customer_lists": [customer_list.pk]}),
        (reverse("campaigns:customer-bulk-add"), {"customer_list": customer_list.pk, "q": ""}),
        (reverse("campaigns:segment-edit", args=[segment.pk]), {"name": "Renamed", "attribute_1": "x", "value_1": "y"}),
        (reverse("campaigns:segment-delete", args=[segment.pk]), {}),
    ]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    assert CustomerList.objects.get(pk=customer_list.pk).name == "Their list"
    assert list(customer_list.customers.all()) == [customer]
    assert Segment.objects.get(pk=segment.pk).name == "Their segment"
    assert CustomerList.objects.count() == 1


def test_another_orgs_lists_segments_and_customers_are_not_found(signed_in, org, vip, theirs):
    customer, customer_list, segment = theirs
    ours = make_customers(org, 1)[0]
    for url in (
        reverse("campaigns:list-edit", args=[customer_list.pk]),
        reverse("campaigns:list-delete", args=[customer_list.pk]),
        reverse("campaigns:segment-edit", args=[segment.pk]),
        reverse("campaigns:segment-delete", args=[segment.pk]),
    ):
        assert signed_in.get(url).status_code == 404, url
        assert signed_in.post(url, {"name": "Taken over"}).status_code == 404, url
    refused = [
        (reverse("campaigns:list-remove", args=[customer_list.pk]), {"customer": customer.pk}),
        (reverse("campaigns:list-remove", args=[vip.pk]), {"customer": customer.pk}),  # their customer, our list
        (reverse("campaigns:customer-lists", args=[customer.pk]), {"customer_lists": [vip.pk]}),
        (reverse("campaigns:customer-lists", args=[ours.pk]), {"customer_lists": [customer_list.pk]}),
        (reverse("campaigns:customer-bulk-add"), {"customer_list": customer_list.pk, "q": ""}),
    ]
    for url, data in refused:
        assert signed_in.post(url, data).status_code == 404, url

    assert CustomerList.objects.get(pk=customer_list.pk).name == "Their list"
    assert list(customer_list.customers.all()) == [customer] and not vip.customers.exists()
    assert Segment.objects.get(pk=segment.pk).name == "Their segment"


def test_a_manager_cannot_create_a_list_in_another_org(signed_in, other_org):
    response = signed_in.post(reverse("campaigns:list-new"), {"org": other_org.pk, "name": "Sneaky"})
    assert response.status_code == 200 and "org" in response.context["form"].errors
    assert not CustomerList.objects.exists()


def test_support_staff_change_lists_and_segments_of_every_org(client, support, theirs):
    customer, customer_list, segment = theirs
    client.force_login(support)

    client.post(reverse("campaigns:list-edit", args=[customer_list.pk]), {"name": "Renamed by support"})
    client.post(reverse("campaigns:list-remove", args=[customer_list.pk]), {"customer": customer.pk})
    client.post(reverse("campaigns:segment-delete", args=[segment.pk]))

    assert CustomerList.objects.get(pk=customer_list.pk).name == "Renamed by support"
    assert not customer_list.customers.exists() and not Segment.objects.exists()


def test_changes_need_post_and_csrf(manager, org, vip, segment):
    customer = make_customers(org, 1)[0]
    vip.customers.add(customer)
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    for url in (
        reverse("campaigns:list-remove", args=[vip.pk]),
        reverse("campaigns:customer-lists", args=[customer.pk]),
        reverse("campaigns:customer-bulk-add"),
    ):
        assert client.get(url).status_code == 405, url
    for url, data in [
        (reverse("campaigns:list-new"), {"org": org.pk, "name": "New"}),
        (reverse("campaigns:list-edit", args=[vip.pk]), {"name": "Renamed"}),
        (reverse("campaigns:list-delete", args=[vip.pk]), {}),
        (reverse("campaigns:list-remove", args=[vip.pk]), {"customer": customer.pk}),
        (reverse("campaigns:segment-edit", args=[segment.pk]), {"name": "Renamed", "attribute_1": "a", "value_1": "b"}),
        (reverse("campaigns:segment-delete", args=[segment.pk]), {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    assert list(CustomerList.objects.values_list("name", flat=True)) == ["VIP"]
    assert list(vip.customers.all()) == [customer] and Segment.objects.get().name == "Pune"


# --- Lists -------------------------------------------------------------------------------------------------------


def test_a_manager_creates_an_empty_list_and_renames_it(signed_in, org):
    # when the manager creates a list by name
    response = signed_in.post(reverse("campaigns:list-new"), {"org": org.pk, "name": "Diwali 2026"}, follow=True)

    # then they land on its empty page, told it was created
    customer_list = CustomerList.objects.get(org=org)
    assert response.redirect_chain == [(reverse("campaigns:list-detail", args=[customer_list.pk]), 302)]
    assert "List “Diwali 2026” created" in messages_of(response) and "0 customers" in response.content.decode()

    # and renaming it shows the new name
    renamed = signed_in.post(
        reverse("campaigns:list-edit", args=[customer_list.pk]), {"name": "Diwali VIPs"}, follow=True
    )
    assert "List “Diwali 2026” is now called “Diwali VIPs”" in messages_of(renamed)
    assert "<h1>List: Diwali VIPs</h1>" in renamed.content.decode()


def test_a_taken_or_empty_list_name_is_refused_next_to_the_field(signed_in, org, vip):
    other = CustomerListFactory(org=org, name="Other")
    taken = signed_in.post(reverse("campaigns:list-new"), {"org": org.pk, "name": "VIP"})
    assert "There is already a list called “VIP”" in " ".join(taken.context["form"].errors["name"])
    rename = signed_in.post(reverse("campaigns:list-edit", args=[other.pk]), {"name": "VIP"})
    assert rename.status_code == 200 and "There is already a list called “VIP”" in rename.content.decode()
    blank = signed_in.post(reverse("campaigns:list-edit", args=[other.pk]), {"name": "  "})
    assert "name" in blank.context["form"].errors
    assert sorted(CustomerList.objects.values_list("name", flat=True)) == ["Other", "VIP"]


def test_a_list_is_deleted_after_confirmation_and_its_customers_stay(signed_in, org, vip, template):
    vip.customers.add(*make_customers(org, 2))
    campaign_for(template, "dispatched", audience_list=vip)

    page = signed_in.get(reverse("campaigns:list-delete", args=[vip.pk])).content.decode()
    assert "The list has 2 customers; they stay as customers" in page
    assert "1 finished campaign sent to this list keeps its report" in page

    response = signed_in.post(reverse("campaigns:list-delete", args=[vip.pk]), follow=True)
    assert response.redirect_chain == [(reverse("campaigns:list-index"), 302)]
    assert "List “VIP” deleted; its customers stay. 1 finished campaign" in messages_of(response)
    assert not CustomerList.objects.exists() and Customer.objects.count() == 2
    assert Campaign.objects.get().status == "dispatched"


def test_a_campaign_names_its_audience_as_renamed_and_keeps_those_names_once_deleted(
    signed_in, manager, vip, segment, template
):
    slots = [{"source": "field", "value": "name"}, {"source": "text", "value": "https://shop.example.in/t"}]
    campaign = services.campaign_create(
        org=template.org,
        user=manager,
        name="Diwali",
        template=template,
        slot_values=slots,
        audience_list=vip,
        audience_segment=segment,
    )
    detail = reverse("campaigns:detail", args=[campaign.pk])
    assert "Audience: list VIP, segment Pune: customers <span" in signed_in.get(detail).content.decode()

    signed_in.post(reverse("campaigns:list-edit", args=[vip.pk]), {"name": "VIP customers"})
    assert "Audience: list VIP customers, segment Pune: customers <span" in signed_in.get(detail).content.decode()

    Campaign.objects.filter(pk=campaign.pk).update(status="dispatched")
    signed_in.post(reverse("campaigns:list-delete", args=[vip.pk]))
    signed_in.post(reverse("campaigns:segment-delete", args=[segment.pk]))
    assert not CustomerList.objects.exists() and not Segment.objects.exists()
    assert "Audience: list VIP customers, segment Pune." in signed_in.get(detail).content.decode()


@pytest.mark.parametrize("status", ["scheduled", "active", "dispatching", "paused", "draft"])
def test_a_list_a_campaign_still_needs_is_not_deleted_and_the_page_names_the_campaign(signed_in, vip, template, status):
    campaign = campaign_for(template, status, audience_list=vip)

    page = signed_in.get(reverse("campaigns:list-delete", args=[vip.pk])).content.decode()
    assert 'data-refused="in_use"' in page and f"Diwali {status}" in page
    assert reverse("campaigns:detail", args=[campaign.pk]) in page and "Delete list</button>" not in page

    response = signed_in.post(reverse("campaigns:list-delete", args=[vip.pk]), follow=True)
    assert f"List “VIP” cannot be deleted: “Diwali {status}”" in messages_of(response)
    assert CustomerList.objects.filter(pk=vip.pk).exists()


def test_a_customer_is_removed_from_a_list_on_the_list_page(signed_in, org, vip):
    asha, ravi = make_customers(org, 2)
    vip.customers.add(asha, ravi)
    page = signed_in.get(reverse("campaigns:list-detail", args=[vip.pk])).content.decode()
    assert "Remove from list" in page

    response = signed_in.post(reverse("campaigns:list-remove", args=[vip.pk]), {"customer": asha.pk}, follow=True)

    assert response.redirect_chain == [(reverse("campaigns:list-detail", args=[vip.pk]), 302)]
    assert "Customer 1 removed from “VIP”" in messages_of(response)
    assert [c.name for c in response.context["page"]] == ["Customer 2"]
    assert Customer.objects.filter(pk=asha.pk).exists()
    again = signed_in.post(reverse("campaigns:list-remove", args=[vip.pk]), {"customer": asha.pk}, follow=True)
    assert "Customer 1 was not on “VIP”" in messages_of(again)


def test_a_customer_is_put_on_lists_and_taken_off_from_their_page(signed_in, org, vip):
    customer = make_customers(org, 1)[0]
    diwali = CustomerListFactory(org=org, name="Diwali")
    url = reverse("campaigns:customer-detail", args=[customer.pk])
    page = signed_in.get(url).content.decode()
    assert "Not on any list." in page and 'id="add-to-lists"' in page

    # when the manager ticks both lists
    response = signed_in.post(
        reverse("campaigns:customer-lists", args=[customer.pk]), {"customer_lists": [vip.pk, diwali.pk]}, follow=True
    )

    # then the customer is on both, and the page says so
    assert response.redirect_chain == [(url, 302)]
    assert "Customer 1 added to “Diwali”, “VIP”" in messages_of(response)
    assert set(customer.lists.all()) == {vip, diwali}
    assert "The customer is on every list of Acme Retail." in response.content.decode()

    # and removing from one list there brings them back to their page
    removed = signed_in.post(
        reverse("campaigns:list-remove", args=[vip.pk]), {"customer": customer.pk, "back": "customer"}, follow=True
    )
    assert removed.redirect_chain == [(url, 302)] and list(customer.lists.all()) == [diwali]


def test_adding_to_no_list_is_refused_in_words(signed_in, org, vip):
    customer = make_customers(org, 1)[0]
    response = signed_in.post(reverse("campaigns:customer-lists", args=[customer.pk]), {}, follow=True)
    assert "Tick at least one list." in messages_of(response) and not customer.lists.exists()


def test_every_customer_of_a_search_is_added_to_a_list(signed_in, org, other_org, vip):
    make_customers(org, 30)
    Customer.objects.create(org=other_org, name="Customer 1 elsewhere", mobile="+919111111111")
    page = signed_in.get(reverse("campaigns:customer-list"), {"q": "customer 1"}).content.decode()
    assert 'id="bulk-add"' in page and "Add the 11 customers matching “customer 1”" in page

    response = signed_in.post(
        reverse("campaigns:customer-bulk-add"), {"customer_list": vip.pk, "q": "customer 1", "org": ""}, follow=True
    )

    assert response.redirect_chain == [(reverse("campaigns:list-detail", args=[vip.pk]), 302)]
    assert "11 customers matching “customer 1” added to “VIP”" in messages_of(response)
    assert set(vip.customers.values_list("name", flat=True)) == {"Customer 1"} | {
        f"Customer {n}" for n in range(10, 20)
    }


def test_support_staff_add_a_search_across_orgs_only_within_the_lists_org(client, support, org, other_org, vip):
    make_customers(org, 2)
    Customer.objects.create(org=other_org, name="Customer elsewhere", mobile="+919111111111")
    client.force_login(support)
    response = client.post(reverse("campaigns:customer-bulk-add"), {"customer_list": vip.pk, "q": "customer"})
    assert response.status_code == 302
    assert set(vip.customers.values_list("name", flat=True)) == {"Customer 1", "Customer 2"}


def test_a_bulk_add_without_a_list_is_refused_in_words(signed_in, org, vip):
    make_customers(org, 2)
    response = signed_in.post(reverse("campaigns:customer-bulk-add"), {"q": ""}, follow=True)
    assert "Choose the list to add the customers to." in messages_of(response) and not vip.customers.exists()


# --- Segments ----------------------------------------------------------------------------------------------------


def test_a_segment_is_edited_with_its_conditions_filled_in_and_a_live_count(signed_in, org, segment):
    make_customers(org, 3)
    Customer.objects.filter(name="Customer 1").update(attributes={"city": "Pune", "tier": "gold"})
    Customer.objects.filter(name="Customer 2").update(attributes={"city": "Goa", "tier": "gold"})
    url = reverse("campaigns:segment-edit", args=[segment.pk])

    # the edit page shows the stored conditions and how many match today
    page = signed_in.get(url)
    assert page.context["form"]["attribute_1"].value() == "city" and page.context["form"]["value_1"].value() == "Pune"
    assert 'data-figure="segment_count">1<' in page.content.decode()

    # counting the new conditions does not save them
    conditions = {"attribute_1": "city", "op_1": "in", "value_1": "pune, goa", "attribute_2": "tier", "value_2": "gold"}
    preview = signed_in.post(url, {"org": org.pk, "name": "Gold", **conditions, "preview": "1"})
    assert preview.context["count"] == 2 and Segment.objects.get().conditions == CITY_IS_PUNE

    # saving changes the name and conditions
    saved = signed_in.post(url, {"org": org.pk, "name": "Gold", **conditions, "save": "1"}, follow=True)
    assert saved.redirect_chain == [(reverse("campaigns:segment-detail", args=[segment.pk]), 302)]
    assert "Segment “Gold” saved." in messages_of(saved) and 'data-figure="segment_count">2<' in saved.content.decode()
    assert Segment.objects.get().conditions == [
        {"attribute": "city", "op": "in", "value": ["pune", "goa"]},
        {"attribute": "tier", "op": "eq", "value": "gold"},
    ]
    # and "is one of" comes back as the text the manager typed
    assert signed_in.get(url).context["form"]["value_1"].value() == "pune, goa"


def test_bad_segment_changes_are_refused_and_nothing_is_saved(signed_in, org, other_org, segment):
    SegmentFactory(org=org, name="Goa", conditions=[{"attribute": "city", "op": "eq", "value": "Goa"}])
    url = reverse("campaigns:segment-edit", args=[segment.pk])
    bad_op = signed_in.post(url, {"org": org.pk, "name": "Pune", "attribute_1": "city", "op_1": "in", "value_1": ","})
    assert "needs at least one value" in bad_op.content.decode()
    taken = signed_in.post(url, {"org": org.pk, "name": "Goa", "attribute_1": "city", "value_1": "x", "save": "1"})
    assert "There is already a segment called “Goa”" in taken.content.decode()
    moved = signed_in.post(url, {"org": other_org.pk, "name": "Pune", "attribute_1": "city", "value_1": "x"})
    assert "org" in moved.context["form"].errors
    assert Segment.objects.get(pk=segment.pk).conditions == CITY_IS_PUNE


def test_editing_a_segment_a_scheduled_campaign_uses_warns_which_campaign(signed_in, segment, template):
    campaign_for(template, "scheduled", audience_segment=segment)
    page = signed_in.get(reverse("campaigns:segment-edit", args=[segment.pk])).content.decode()
    assert 'data-warning="in_use"' in page and "Diwali scheduled</a> (scheduled)" in page


def test_a_segment_is_deleted_after_confirmation_unless_a_campaign_needs_it(signed_in, segment, template):
    recurring = campaign_for(template, "active", audience_segment=segment)
    refused = signed_in.post(reverse("campaigns:segment-delete", args=[segment.pk]), follow=True)
    assert "Segment “Pune” cannot be deleted: “Diwali active” (recurring: active)" in messages_of(refused)
    assert Segment.objects.exists()

    Campaign.objects.filter(pk=recurring.pk).update(status="cancelled")
    page = signed_in.get(reverse("campaigns:segment-delete", args=[segment.pk])).content.decode()
    assert "Delete segment</button>" in page
    deleted = signed_in.post(reverse("campaigns:segment-delete", args=[segment.pk]), follow=True)
    assert deleted.redirect_chain == [(reverse("campaigns:segment-index"), 302)]
    assert "Segment “Pune” deleted" in messages_of(deleted) and not Segment.objects.exists()
    assert Campaign.objects.get(pk=recurring.pk).status == "cancelled"


def test_every_field_of_the_segment_form_has_a_name_a_screen_reader_reads(signed_in):
    page = signed_in.get(reverse("campaigns:segment-new")).content.decode()
    fields = re.findall(r"<(?:input|select)\b[^>]*>", page)
    named = [field for field in fields if 'type="hidden"' not in field]
    labelled = {match for match in re.findall(r'<label for="([^"]+)"', page)}
    unnamed = [f for f in named if "aria-label=" not in f and re.search(r'id="([^"]+)"', f).group(1) not in labelled]
    assert len(named) > 10 and not unnamed
    assert 'aria-label="Condition 2: comparison"' in page
