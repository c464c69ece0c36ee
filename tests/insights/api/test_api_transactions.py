"""POST /api/v1/transactions/: transactions in with a key that may write; a read-only key refused; errors per item."""

import json
from decimal import Decimal

import pytest

from campaigns.models import CampaignSales, Transaction
from insights.api import keys as api_keys
from tests.campaigns.customers.transactions_helpers import ist, reached
from tests.factories import CustomerFactory

URL = "/api/v1/transactions/"


@pytest.fixture
def write_key(org, manager) -> str:
    return api_keys.api_key_create(org=org, user=manager, name="Shop", can_write=True)[1]


@pytest.fixture
def post(client):
    def send(body, key: str):
        return client.post(
            URL, json.dumps(body), content_type="application/json", headers={"Authorization": f"Bearer {key}"}
        )

    return send


def _item(transaction_id: str, **fields) -> dict:
    return {
        "transaction_id": transaction_id,
        "time": "2026-11-02T10:00:00+05:30",
        "amount": "1299.50",
        "external_id": "C1",
        **fields,
    }


def test_a_read_only_key_is_refused_with_403_and_nothing_is_stored(post, raw_key):
    response = post({"transactions": [_item("A-1")]}, raw_key)

    assert response.status_code == 403
    assert "only reads" in response.json()["error"]
    assert response["Content-Type"] == "application/json"
    assert not Transaction.objects.exists()


def test_a_write_key_stores_a_batch_attributed_to_the_campaign_and_the_same_batch_again_changes_nothing(
    org, template, post, write_key
):
    customer = CustomerFactory(org=org, external_id="C1")
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 10, 0))
    batch = {"transactions": [_item("A-1"), _item("A-2", amount=100), _item("A-3", external_id="unknown-9")]}

    first = post(batch, write_key)
    again = post(batch, write_key)

    assert first.status_code == 200, first.content
    assert (first.json()["created"], first.json()["waiting_for_customer"], first.json()["errors"]) == (3, 1, [])
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
    assert [result["outcome"] for result in again.json()["results"]] == ["unchanged"] * 3
    assert Transaction.objects.count() == 3
    sales = CampaignSales.objects.get(campaign=campaign)
    assert (sales.other_buyers, sales.other_purchases, sales.other_revenue) == (1, 2, Decimal("1399.50"))


def test_each_bad_item_is_answered_by_its_index_and_the_good_ones_are_stored(org, post, write_key):
    response = post(
        [
            _item("ok-1"),
            _item("bad-time", time="next Tuesday"),
            _item("bad-amount", amount="12,99,9x"),
            {"transaction_id": "nobody", "time": "2026-11-02 10:00", "amount": 5},
            "not an object",
        ],
        write_key,
    )

    assert response.status_code == 200
    errors = {error["index"]: error["error"] for error in response.json()["errors"]}
    assert set(errors) == {1, 2, 3, 4}
    assert "“next Tuesday” is not a date and time" in errors[1]
    assert "is not a number" in errors[2]
    assert "give external_id, mobile or email" in errors[3]
    assert list(Transaction.objects.values_list("transaction_id", flat=True)) == ["ok-1"]


def test_a_batch_over_1000_or_not_json_is_refused_in_words(post, write_key):
    too_many = post({"transactions": [_item(f"T{n}") for n in range(1001)]}, write_key)
    not_json = post("{", write_key)

    assert too_many.status_code == 400
    assert "At most 1,000 transactions a call" in too_many.json()["error"]
    assert not_json.status_code == 400
    assert not Transaction.objects.exists()


def test_a_key_stores_transactions_in_its_own_org_only(org, other_org, outsider, post):
    theirs = api_keys.api_key_create(org=other_org, user=outsider, name="Their shop", can_write=True)[1]
    CustomerFactory(org=org, external_id="C1")

    post({"transactions": [_item("A-1")]}, theirs)

    stored = Transaction.objects.get()
    assert stored.org == other_org and stored.customer is None  # our customer C1 is not theirs


def test_get_is_refused_on_the_transactions_endpoint(client, write_key):
    response = client.get(URL, headers={"Authorization": f"Bearer {write_key}"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"
