"""Support staff find messages across orgs from what a ticket gives: a mobile number in any spelling, an email
address, a gateway id or the short link the customer received; each reading says what it found."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle.services import campaign_create
from campaigns.models import Customer
from campaigns.sending.test_sends import proof_send
from delivery.models import Message, PendingReceipt
from linktrack.models import ShortLink
from linktrack.redirect import codes
from tests.factories import CampaignFactory, make_customers, store_click


@pytest.fixture
def staff(client, support):
    client.force_login(support)
    return client


@pytest.fixture
def sent(org, customers, send_campaign):
    """A campaign sent through the simulated gateway to the org's ten customers."""
    return send_campaign(name="Order shipped")


@pytest.fixture
def theirs(other_org, template):
    """Another org's message to the same number as the org's first customer (+919810000001)."""
    customer = make_customers(other_org, 1)[0]
    campaign = CampaignFactory(org=other_org, name="Their sale", template=template, status="dispatched")
    return Message.objects.create(
        campaign=campaign, customer=customer, channel="sms", recipient=customer.mobile, status="delivered"
    )


def find(client, q: str, **params):
    response = client.get(reverse("support:message-lookup"), {"q": q, **params})
    assert response.status_code == 200
    return response.content.decode()


def found_ids(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr data-message="(\d+)"', page)}


def test_a_mobile_number_in_any_spelling_finds_its_messages_in_every_org_or_in_the_one_chosen(staff, sent, theirs, org):
    ours = Message.objects.get(campaign=sent, recipient="+919810000001")
    for spelling in ("98100 00001", "+91-98100-00001", "09810000001", "919810000001"):
        page = find(staff, spelling)
        assert found_ids(page) == {ours.pk, theirs.pk}, spelling
        assert "customer with mobile number +919810000001: 2 messages." in page
    page = find(staff, "9810000001", org=org.pk)
    assert found_ids(page) == {ours.pk}
    assert "Acme Retail" in page and "Order shipped" in page and reverse("delivery:message", args=[ours.pk]) in page


def test_a_number_that_cannot_be_a_mobile_says_why(staff, sent):
    page = find(staff, "98100")
    assert "Not a mobile number: “98100” is too short for a phone number." in page
    assert 'id="nothing-found"' in page and not found_ids(page)


def test_a_gateway_id_finds_its_message_with_the_outcome_in_words(staff, sent):
    message = Message.objects.filter(campaign=sent).exclude(gateway_message_id="").order_by("pk").first()
    Message.objects.filter(pk=message.pk).update(status="not_delivered", reason_code="ndnc", gateway_error="DLT:NDNC")
    page = find(staff, f"  {message.gateway_message_id.lower()}  ")
    assert found_ids(page) == {message.pk}
    assert "Customer is on the Do-Not-Disturb list" in page and "<code>DLT:NDNC</code>" in page
    assert f"gateway message id {message.gateway_message_id.lower()}: 1 message." in page


def test_the_short_link_a_customer_received_finds_exactly_their_message(staff, sent):
    message = Message.objects.filter(campaign=sent).order_by("pk")[3]
    shown = re.search(r"127\.0\.0\.1:8000/s/[0-9A-Z]+", message.body).group(0)
    store_click(
        short_link=ShortLink.objects.get(campaign=sent), message=message, campaign=sent, clicked_at=timezone.now()
    )
    for pasted in (shown, f"http://{shown}", f"https://{shown}/", shown.rsplit("/", 1)[1].lower()):
        page = find(staff, pasted)
        assert found_ids(page) == {message.pk}, pasted
        assert "(to https://acme.test/t): 1 message." in page
    assert "<td data-clicks>1</td>" in find(staff, shown)


def test_a_forged_or_mangled_short_link_finds_nothing_and_says_so(staff, sent, theirs):
    link = ShortLink.objects.get(campaign=sent)
    forged = codes.encode(link.pk, theirs.pk)  # decodes, but that message is not in the link's campaign
    assert not found_ids(find(staff, f"s.cplry.com/{forged}"))
    page = find(staff, "s.cplry.com/ZZZZ")
    assert "Not a short link of ours: “s.cplry.com/ZZZZ”" in page and not found_ids(page)


def test_an_email_address_finds_the_customers_email_messages(staff, org, template):
    customer = Customer.objects.create(org=org, name="Asha", email="asha@example.in")
    campaign = CampaignFactory(org=org, name="Newsletter", template=template, status="dispatched")
    message = Message.objects.create(
        campaign=campaign, customer=customer, channel="email", recipient=customer.email, status="not_delivered",
        reason_code="email_mailbox_unavailable",
    )  # fmt: skip
    page = find(staff, "Asha@Example.in")
    assert found_ids(page) == {message.pk} and "customer with email address asha@example.in: 1 message." in page


def test_a_test_sent_from_a_preview_is_found_by_its_number_id_and_link(
    staff, org, other_org, template, manager, sent, django_capture_on_commit_callbacks
):
    # given a test of a draft sent to the number of the org's first customer, who also got the campaign
    draft = campaign_create(
        org=org, user=manager, name="Draft", template=template,
        slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/t"}],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        proof = proof_send(campaign=draft, user=manager, recipients=["+919810000001"])
    test = Message.with_proofs.get(proof=proof)
    customers = Message.objects.get(campaign=sent, recipient="+919810000001")
    # when support looks the number up, then both are found, the test marked as one with a way to its preview
    page = find(staff, "98100 00001")
    assert found_ids(page) == {test.pk, customers.pk}
    assert "customer with mobile number +919810000001: 1 message." in page
    assert "tests from a preview to +919810000001: 1 message." in page
    assert f'(a test from the <a href="{reverse("campaigns:preview", args=[draft.pk])}#proofs">preview</a>)' in page
    # and the test's gateway id and its short link find it alone
    assert found_ids(find(staff, test.gateway_message_id)) == {test.pk}
    shown = re.search(r"127\.0\.0\.1:8000/s/[0-9A-Z]+", test.body).group(0)
    assert found_ids(find(staff, shown)) == {test.pk}
    # and choosing another org finds none of them
    assert not found_ids(find(staff, "9810000001", org=other_org.pk))


def test_a_receipt_waiting_for_its_id_is_shown(staff, org):
    PendingReceipt.objects.create(org=org, gateway_message_id="1A2B3C99", state="not_delivered", reason_code="expired")
    page = find(staff, "1A2B3C99")
    assert (
        'id="waiting-receipts"' in page and "Not delivered: Expired before delivery" in page and "Acme Retail" in page
    )


def test_the_lookup_takes_the_same_queries_however_many_messages_match(staff, support, sent, theirs,
                                                                      django_assert_num_queries):  # fmt: skip
    from delivery.support.message_lookup import message_lookup

    # gateway id, customers' messages, tests to the number, the messages, their clicks, receipts
    with django_assert_num_queries(6):
        assert len(message_lookup("+919810000001").results) == 2
    with django_assert_num_queries(5):
        assert len(message_lookup(f"{sent.messages.order_by('pk').first().gateway_message_id}").results) == 1


def test_only_support_staff_may_look_messages_up(client, manager, sent):
    url = reverse("support:message-lookup")
    assert client.get(url, {"q": "9810000001"}).status_code == 302  # to the login page
    client.force_login(manager)
    assert client.get(url, {"q": "9810000001"}).status_code == 403


def test_an_empty_search_asks_for_something_to_find(staff):
    page = find(staff, "  ")
    assert "Type what the ticket gives: a number, an address, an id or a link." in page
    assert 'id="readings"' not in page
