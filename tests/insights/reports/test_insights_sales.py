"""Purchases per campaign on Insights, its CSV, the campaign page, Compare and the reporting API: read from the sales
counters, so the queries do not grow with transactions; another org's figures are never shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights.api import keys as api_keys
from tests.campaigns.customers.transactions_helpers import buy, click, ist, reached
from tests.factories import CustomerFactory, MessageFactory
from tests.insights.reports.helpers import _csv

SMALL, LARGE = 2, 40


def _campaign_with_buyers(org, template, buyers: int, *, clicked: int):
    """A campaign delivered to `buyers` customers + 2 who do not buy; the first `clicked` clicked before buying."""
    customers = [CustomerFactory(org=org) for _ in range(buyers + 2)]
    campaign, first = reached(template, customers[0], ist(2026, 11, 1, 10, 0), name="Diwali")
    messages = [first] + [
        MessageFactory(
            campaign=campaign,
            customer=customer,
            status="delivered",
            sent_at=ist(2026, 11, 1, 10, 0),
            finished_at=ist(2026, 11, 1, 10, 0),
        )
        for customer in customers[1:]
    ]
    for message in messages[:clicked]:
        click(message, ist(2026, 11, 1, 10, 5))
    for number, customer in enumerate(customers[:buyers]):
        buy(org, f"order-{campaign.pk}-{number}", ist(2026, 11, 2, 10, 0), "100.00", external_id=customer.external_id)
    return campaign


def _queries(client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["campaign", "insights", "compare"])
def test_pages_run_the_same_queries_whatever_the_number_of_transactions(
    client, manager, org, template, email_template, page
):
    client.force_login(manager)
    counted = []
    for buyers in (SMALL, LARGE):
        campaign = _campaign_with_buyers(org, template, buyers, clicked=1)
        other = _campaign_with_buyers(org, email_template, 1, clicked=0)
        if page == "campaign":
            counted.append(_queries(client, reverse("campaigns:detail", args=[campaign.pk])))
        elif page == "insights":
            counted.append(_queries(client, reverse("insights:overview"), period="all"))
        else:
            counted.append(_queries(client, reverse("insights:compare"), c=[campaign.pk, other.pk]))
    assert counted[0] == counted[1]


def test_the_campaign_page_sets_clickers_against_the_others_and_marks_small_groups(client, manager, org, template):
    campaign = _campaign_with_buyers(org, template, 3, clicked=1)
    client.force_login(manager)

    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert "Did those who clicked buy?" in page
    assert "A purchase counts for a campaign when the customer got one of its messages and bought within 7 days" in page
    clicked = page.split('<tr data-group="clicked">')[1].split("</tr>")[0]
    others = page.split('<tr data-group="did_not_click">')[1].split("</tr>")[0]
    assert '<td data-figure="buyers">1</td>' in clicked and '<td data-figure="revenue">100.00</td>' in clicked
    assert "100.0%" in clicked and "(too few to compare)" in clicked
    # 5 delivered, 1 clicked: 4 who did not click, 2 of whom bought
    assert '<td data-figure="buyers">2</td>' in others and "50.0%" in others


def test_compare_sets_the_buyers_of_each_campaign_side_by_side(client, manager, org, template, email_template):
    campaign = _campaign_with_buyers(org, template, 3, clicked=1)
    other = _campaign_with_buyers(org, email_template, 1, clicked=0)
    client.force_login(manager)

    page = client.get(reverse("insights:compare"), {"c": [campaign.pk, other.pk]}).content.decode()

    bought = page.split('<tr data-figure="bought_clicked">')[1].split("</tr>")[0]
    assert "<td>1 of 1 (100.0%), too few to compare</td>" in bought
    assert "<td>0 of 0 (–), too few to compare</td>" in bought  # nobody clicked the email
    revenue = page.split('<tr data-figure="revenue">')[1].split("</tr>")[0]
    assert "₹300.00" in revenue and "₹100.00" in revenue


def test_insights_csv_and_the_api_give_the_sales_of_the_orgs_campaigns_only(
    client, manager, org, other_org, outsider, template
):
    campaign = _campaign_with_buyers(org, template, 3, clicked=1)
    client.force_login(manager)

    rows = _csv(client.get(reverse("insights:export"), {"period": "all"}))
    header, row = rows[0], rows[1]
    figures = dict(zip(header, row, strict=True))
    assert (figures["buyers_who_clicked"], figures["revenue_clicked_inr"]) == ("1", "100.00")
    assert (figures["buyers_who_did_not_click"], figures["revenue_not_clicked_inr"]) == ("2", "200.00")
    assert figures["too_few_to_compare"] == "yes"

    key = api_keys.api_key_create(org=org, user=manager, name="BI")[1]
    answer = client.get(f"/api/v1/campaigns/{campaign.pk}/", headers={"Authorization": f"Bearer {key}"}).json()
    (inr,) = answer["sales"]
    assert inr["currency"] == "INR"
    assert (inr["clicked"]["buyers"], inr["did_not_click"]["buyers"], inr["revenue"]) == (1, 2, "300.00")
    assert inr["clicked"]["too_few_to_compare"] is True

    # another org's manager and key see none of it
    theirs = api_keys.api_key_create(org=other_org, user=outsider, name="BI")[1]
    refused = client.get(f"/api/v1/campaigns/{campaign.pk}/", headers={"Authorization": f"Bearer {theirs}"})
    assert refused.status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404
    assert _csv(client.get(reverse("insights:export"), {"period": "all"}))[1:] == []
