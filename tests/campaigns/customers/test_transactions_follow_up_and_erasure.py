"""Follow-up lists on buyers ("clicked and bought", "clicked, did not buy") and erasure of a buyer (the purchases
lose their link to them, the campaign keeps its figures)."""

from decimal import Decimal

from django.urls import reverse

from campaigns.customers.attribution import org_transactions_reattribute
from campaigns.customers.erasure import customer_erase
from campaigns.models import CustomerList, Transaction
from tests.campaigns.customers.transactions_helpers import buy, click, ist, reached, sales
from tests.factories import CustomerFactory, MessageFactory


def test_follow_up_lists_of_those_who_clicked_and_bought_and_those_who_clicked_and_did_not(
    client, org, template, manager
):
    # given three recipients: one clicked and bought, one clicked and did not buy, one did not click and bought
    buyer, browser, quiet = (CustomerFactory(org=org, external_id=f"C{n}") for n in (1, 2, 3))
    campaign, first = reached(template, buyer, ist(2026, 11, 1, 10, 0))
    second = MessageFactory(
        campaign=campaign, customer=browser, status="delivered", sent_at=ist(2026, 11, 1, 10, 0),
        finished_at=ist(2026, 11, 1, 10, 0),
    )  # fmt: skip
    MessageFactory(
        campaign=campaign, customer=quiet, status="delivered", sent_at=ist(2026, 11, 1, 10, 0),
        finished_at=ist(2026, 11, 1, 10, 0),
    )  # fmt: skip
    click(first, ist(2026, 11, 1, 10, 5))
    click(second, ist(2026, 11, 1, 10, 6))
    buy(org, "order-1", ist(2026, 11, 1, 11, 0), external_id="C1")
    buy(org, "order-3", ist(2026, 11, 1, 11, 0), external_id="C3")

    # when the manager makes both lists from the campaign page
    client.force_login(manager)
    url = reverse("campaigns:follow-up-list", args=[campaign.pk])
    client.post(url, {"who": "clicked_bought"})
    client.post(url, {"who": "clicked_not_bought"})

    # then each holds the one customer it names
    bought = CustomerList.objects.get(name=f"{campaign.name}: clicked and bought")
    not_bought = CustomerList.objects.get(name=f"{campaign.name}: clicked, did not buy")
    assert list(bought.customers.all()) == [buyer]
    assert list(not_bought.customers.all()) == [browser]


def test_erasing_a_buyer_unlinks_their_purchases_and_keeps_the_campaigns_figures(org, template):
    customer = CustomerFactory(org=org, external_id="C1", mobile="+919810000001")
    campaign, message = reached(template, customer, ist(2026, 11, 1, 10, 0))
    click(message, ist(2026, 11, 1, 10, 5))
    buy(org, "order-1", ist(2026, 11, 1, 11, 0), "300.00", mobile="+919810000001")
    buy(org, "order-2", ist(2026, 11, 2, 11, 0), "200.00", external_id="C1")
    before = sales(campaign)

    result = customer_erase(customer=customer, user=None)

    rows = list(Transaction.objects.all())
    assert result.transactions == 2
    assert "2 purchases no longer linked to them" in result.in_words
    assert all(row.customer_id is None and not (row.mobile or row.customer_external_id) for row in rows)
    assert sales(campaign) == before == (1, Decimal("500.00"), 0, Decimal(0))
    # and attributing every purchase again (a rebuild) still counts them once, as one buyer
    org_transactions_reattribute(org=org)
    assert sales(campaign) == before
