"""Sending a test from the preview page: through the gateway, what became of it, who may, and what it leaves."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign, Customer, Org
from campaigns.sending.test_sends import ProofRefused
from delivery.models import Message, Proof
from tests.campaigns.sending.proofs.helpers import MY_NUMBER, _draft
from tests.factories import PASSWORD, http_config, make_customers
from tests.helpers import launch


def test_send_a_test_from_the_preview_through_the_http_gateway(
    client,
    org,
    template,
    manager,
    customers,
    http_gateway,
    django_capture_on_commit_callbacks,
):
    # given a manager on a draft's preview, the org's SMS going through an HTTP gateway
    http_config(org, http_gateway.url)
    campaign = _draft(template, manager)
    client.login(username=manager.email, password=PASSWORD)
    url = reverse("campaigns:proof-send", args=[campaign.pk])
    preview = reverse("campaigns:preview", args=[campaign.pk])
    # when they send a test to two numbers
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"recipients": "98100 00001\n9810000002"}, follow=True)
        # then the page answers before the gateway is asked (a worker hands the test over), saying so
        assert http_gateway.requests == []
        page = response.content.decode()
        assert "Test queued for +91 98XXXXXX01, +91 98XXXXXX02: it is being handed to the gateway." in page
        assert page.count('data-status="queued"') == 2
    # and once the worker ran, the gateway got both with the DLT ids, and the preview lists them as sent
    assert [r.json["to"] for r in http_gateway.requests] == [MY_NUMBER, "+919810000002"]
    assert http_gateway.requests[0].json["dlt_template_id"] == "1707160000000000001"
    page = client.get(preview).content.decode()
    assert page.count('data-status="sent"') == 2 and "+91 98XXXXXX02" in page
    history = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "<strong>Test sent</strong>: To 2 recipients</td><td>manager@acme.test" in history

    # when the gateway refuses the next test
    http_gateway.script = [("refuse", 400, "invalid_number")]
    credits = Org.objects.get(pk=org.pk).credits
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"recipients": "9810000003"})
    # then the preview says it was not sent and why, and its credit is given back
    refused = Message.with_proofs.get(recipient="+919810000003")
    assert refused.status == Message.Status.NOT_SENT and Proof.objects.get(pk=refused.proof_id).credits == 0
    assert Org.objects.get(pk=org.pk).credits == credits
    assert "Not sent: Skipped due to validation issues" in client.get(preview).content.decode()

    # when an entry is not a number, nothing is sent and the error names it next to the field, typed text kept
    response = client.post(url, {"recipients": "9810000004, 12345"})
    page = response.content.decode()
    assert response.status_code == 200 and "&#x27;12345&#x27; is too short for a phone number" in page
    assert "9810000004, 12345</textarea>" in page and len(http_gateway.requests) == 3


@pytest.mark.django_db(transaction=True)
def test_with_tasks_in_process_the_page_says_at_once_what_became_of_the_test(
    client,
    org,
    template,
    manager,
    http_gateway,
):
    # given the embedded set-up (tasks run in-process as soon as the test is saved) and an HTTP gateway
    http_config(org, http_gateway.url)
    campaign = _draft(template, manager)
    client.force_login(manager)
    url = reverse("campaigns:proof-send", args=[campaign.pk])
    # when a test goes to two numbers, the gateway refusing the second
    http_gateway.script = [("accept",), ("refuse", 400, "invalid_number")]
    page = client.post(url, {"recipients": "9810000001, 9810000002"}, follow=True).content.decode()
    # then the page says which was handed over and which was not, and why
    assert "Test handed to the gateway for +91 98XXXXXX01." in page
    assert "Test not sent to +91 98XXXXXX02: Skipped due to validation issues" in page
    assert "Test queued" not in page


def test_the_preview_lists_its_tests_in_the_same_queries_however_many(client, org, template, manager, customers, send):
    # given a draft with one test, then with three more
    campaign = _draft(template, manager)
    client.force_login(manager)
    url = reverse("campaigns:preview", args=[campaign.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    with_one = queries()
    for _ in range(3):
        send(campaign=campaign, user=manager, recipients=[MY_NUMBER, "+919810000002"])

    # when / then the page lists all seven messages, and the extra tests cost no query
    assert queries() == with_one
    assert client.get(url).content.decode().count("data-proof=") == 7


def test_support_staff_open_a_tests_gateway_log_from_the_preview(client, org, template, manager, support, send):
    campaign = _draft(template, manager)
    proof = send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    message = Message.with_proofs.get(proof=proof)
    log_url = reverse("delivery:message-log", args=[message.pk])
    client.force_login(manager)
    assert log_url not in client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    client.force_login(support)
    assert log_url in client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert "submit" in client.get(log_url).content.decode()


def test_only_the_orgs_members_and_staff_can_send_a_test_with_csrf(client, org, template, manager, outsider, support):
    campaign = _draft(template, manager)
    url = reverse("campaigns:proof-send", args=[campaign.pk])
    assert client.post(url, {"recipients": MY_NUMBER}).status_code == 302  # to sign in
    client.login(username=outsider.email, password=PASSWORD)
    assert client.post(url, {"recipients": MY_NUMBER}).status_code == 404
    client.login(username=support.email, password=PASSWORD)
    assert client.post(url, {"recipients": MY_NUMBER}).status_code == 302
    assert Proof.objects.get().sent_by == support
    client.logout()
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.login(username=manager.email, password=PASSWORD)
    assert strict.post(url, {"recipients": MY_NUMBER}).status_code == 403
    assert Proof.objects.count() == 1


def test_a_launched_campaign_cannot_be_tested(
    org, template, manager, customers, django_capture_on_commit_callbacks, send
):
    campaign = launch(_draft(template, manager), manager, django_capture_on_commit_callbacks)
    with pytest.raises(ProofRefused, match="only while the campaign is a draft"):
        send(campaign=campaign, user=manager, recipients=[MY_NUMBER])


def test_deleting_a_campaign_deletes_its_proofs(org, template, manager, send):
    campaign = _draft(template, manager)
    send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    Campaign.objects.filter(pk=campaign.pk).delete()
    assert not Message.with_proofs.exists() and not Proof.objects.exists()


def test_a_customer_with_the_number_of_a_proof_keeps_their_own_messages(org, template, manager, send):
    (customer,) = make_customers(org, 1)
    campaign = _draft(template, manager)
    send(campaign=campaign, user=manager, recipients=[customer.mobile])
    assert list(Customer.objects.get(pk=customer.pk).messages.all()) == []
    assert not Message.objects.filter(campaign=campaign).exists()
