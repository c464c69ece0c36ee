"""Chromium: a manager makes a list, fills it from a search, takes a customer off it, and edits a segment
with the live count."""

import pytest
from playwright.sync_api import expect

from campaigns.models import Customer, CustomerList, Segment
from tests.factories import PASSWORD, SegmentFactory, make_customers

pytestmark = pytest.mark.browser


def test_manager_fills_a_list_from_a_search_and_edits_a_segment_in_the_browser(
    transactional_db, live_server, browser_page, manager, org, tmp_path
):
    make_customers(org, 12)
    Customer.objects.filter(name__in=["Customer 1", "Customer 2"]).update(attributes={"city": "Pune"})
    Customer.objects.filter(name="Customer 3").update(attributes={"city": "Goa"})
    segment = SegmentFactory(org=org, name="Pune", conditions=[{"attribute": "city", "op": "eq", "value": "Pune"}])
    page = browser_page
    page.goto(f"{live_server.url}/campaigns/lists/")
    page.fill("#id_username", manager.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")

    # the manager creates an empty list
    page.click("text=New list")
    page.fill("#id_name", "Diwali")
    page.click("button:has-text('Create list')")
    assert "List “Diwali” created" in page.locator(".messages").inner_text()

    # adds every customer a search finds
    page.goto(f"{live_server.url}/campaigns/customers/?q=customer+1")
    page.select_option("#id_customer_list", label="Diwali")
    page.click("#bulk-add button[type=submit]")
    assert "4 customers matching “customer 1” added to “Diwali”" in page.locator(".messages").inner_text()
    assert page.locator("p.pager").inner_text() == "4 customers"

    # and takes one of them off the list
    customer_10 = Customer.objects.get(org=org, name="Customer 10")
    page.click(f"tr[data-customer='{customer_10.pk}'] button:has-text('Remove from list')")
    assert "Customer 10 removed from “Diwali”" in page.locator(".messages").inner_text()
    assert set(CustomerList.objects.get(org=org).customers.values_list("name", flat=True)) == {
        "Customer 1",
        "Customer 11",
        "Customer 12",
    }

    # edits the segment: the stored count shows at once and follows the new conditions
    page.goto(f"{live_server.url}/campaigns/segments/{segment.pk}/edit/")
    assert page.locator("#live-count").inner_text() == "2"
    page.select_option("#id_op_1", "in")
    page.fill("#id_value_1", "pune, goa")
    expect(page.locator("#live-count")).to_have_text("3")
    page.click("button[name=save]")
    assert page.locator('[data-figure="segment_count"]').inner_text() == "3"
    assert Segment.objects.get().conditions == [{"attribute": "city", "op": "in", "value": ["pune", "goa"]}]
