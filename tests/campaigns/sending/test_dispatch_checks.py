"""Per-recipient checks at dispatch: each refusal ends as a not-sent reason, never as a send."""

import pytest

from campaigns.models import Campaign, Customer, NdncEntry, Org
from campaigns.sending.dispatch import campaign_dispatch
from delivery.models import Message
from tests.factories import CustomerFactory, create_campaign, make_customers
from tests.helpers import launch


def outcomes(campaign) -> dict[str, str]:
    return {m.customer.name: m.reason_code or m.status for m in Message.objects.filter(campaign=campaign)}


def test_unsubscribed_and_invalid_recipients_are_not_sent_with_their_reason(
    template, manager, django_capture_on_commit_callbacks
):
    # given a subscribed customer, an unsubscribed one, and ones with a missing, malformed or impossible number
    org = template.org
    Customer.objects.create(org=org, name="ok", mobile="+919810000001")
    Customer.objects.create(org=org, name="stopped", mobile="+919810000002", sms_subscribed=False)
    CustomerFactory(org=org, name="missing", mobile="", external_id="X1")
    Customer.objects.create(org=org, name="malformed", mobile="98-abc")
    Customer.objects.create(org=org, name="too short", mobile="+91981")

    # when the campaign is launched
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)

    # then only the valid, subscribed customer is sent to; the others carry the catalogue's reason
    result = outcomes(campaign)
    assert result["stopped"] == "unsubscribed"
    assert {result["missing"], result["malformed"], result["too short"]} == {"validation_failed"}
    assert Message.objects.get(campaign=campaign, customer__name="ok").gateway_message_id


def test_email_campaign_refuses_a_missing_address(org, manager, django_capture_on_commit_callbacks):
    from campaigns.models import Template

    template = Template.objects.create(org=org, name="Mail", channel="email", subject="Hi", body="Hello {#var#}")
    Customer.objects.create(org=org, name="mail", email="A@Example.com", mobile="+919810000001")
    Customer.objects.create(org=org, name="nomail", mobile="+919810000002")

    campaign = launch(
        create_campaign(template, manager, slot_values=[{"source": "field", "value": "name"}]),
        manager,
        django_capture_on_commit_callbacks,
    )

    sent = Message.objects.get(campaign=campaign, customer__name="mail")
    assert sent.recipient == "a@example.com" and sent.body == "Hello mail" and sent.gateway_message_id
    assert Message.objects.get(campaign=campaign, customer__name="nomail").reason_code == "validation_failed"


def test_ndnc_number_is_not_sent_a_promotional_message_of_a_blocked_category(
    promotional_template, manager, clock, django_capture_on_commit_callbacks
):
    # given a number blocking category 2 (the sender's), one blocking only category 5, one fully blocked
    org = promotional_template.org
    for name, mobile in (("blocks 2", "+919810000001"), ("blocks 5", "+919810000002"), ("blocks all", "+919810000003")):
        Customer.objects.create(org=org, name=name, mobile=mobile)
    Customer.objects.create(org=org, name="clean", mobile="+919810000004")
    NdncEntry.objects.create(org=org, mobile="+919810000001", blocked_categories=[2, 3])
    NdncEntry.objects.create(org=org, mobile="+919810000002", blocked_categories=[5])
    NdncEntry.objects.create(org=org, mobile="+919810000003", blocked_categories=[0])
    clock.set(2026, 11, 23, 11, 0)

    campaign = launch(create_campaign(promotional_template, manager), manager, django_capture_on_commit_callbacks)

    result = outcomes(campaign)
    assert result["blocks 2"] == "ndnc_precheck" and result["blocks all"] == "ndnc_precheck"
    assert result["blocks 5"] != "ndnc_precheck" and result["clean"] != "ndnc_precheck"
    assert Message.objects.filter(campaign=campaign).exclude(gateway_message_id="").count() == 2


def test_ndnc_register_does_not_stop_a_service_message(template, manager, django_capture_on_commit_callbacks):
    Customer.objects.create(org=template.org, name="listed", mobile="+919810000001")
    NdncEntry.objects.create(org=template.org, mobile="+919810000001", blocked_categories=[0])

    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)

    assert Message.objects.get(campaign=campaign).gateway_message_id


def test_same_number_twice_in_the_audience_gets_one_message(template, manager, django_capture_on_commit_callbacks):
    # given two customers (different external ids) whose numbers are the same once normalised to E.164
    org = template.org
    CustomerFactory(org=org, name="first", mobile="+919810000001", external_id="A")
    CustomerFactory(org=org, name="second", mobile="09810000001", external_id="B")
    CustomerFactory(org=org, name="other", mobile="+919810000002", external_id="C")

    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)

    messages = Message.objects.filter(campaign=campaign)
    assert sorted(m.recipient for m in messages) == ["+919810000001", "+919810000002"]
    assert messages.get(recipient="+919810000001").customer.name == "first"


def test_same_address_twice_in_an_email_audience_gets_one_message_to_the_first_customer(
    org, manager, django_capture_on_commit_callbacks, settings
):
    from campaigns.models import Template

    # given addresses shared as written, and written differently (case, spaces), across batches of 2
    settings.DISPATCH_BATCH_SIZE = 2
    template = Template.objects.create(org=org, name="Mail", channel="email", subject="Hi", body="Hello {#var#}")
    for n, (name, email) in enumerate(
        [("asha", "Asha@Acme.test "), ("bala", "bala@acme.test"), ("asha again", "asha@acme.test"),
         ("bala again", "bala@acme.test"), ("chitra", "chitra@acme.test"), ("no address", "")],
        start=1,
    ):  # fmt: skip
        Customer.objects.create(org=org, name=name, email=email, mobile=f"+91981000000{n}")

    campaign = launch(
        create_campaign(template, manager, slot_values=[{"source": "field", "value": "name"}]),
        manager,
        django_capture_on_commit_callbacks,
    )

    # then each address got one message, to the customer who came first; the customer without one is not sent
    assert outcomes(campaign) == {
        "asha": "delivered", "bala": "delivered", "chitra": "delivered", "no address": "validation_failed"
    }  # fmt: skip
    assert Message.objects.get(campaign=campaign, customer__name="asha").recipient == "asha@acme.test"


def test_campaign_never_spends_more_credits_than_the_org_has(template, manager, django_capture_on_commit_callbacks):
    # given 10 customers and credits for 4 one-segment messages
    org = template.org
    Org.objects.filter(pk=org.pk).update(credits=4)
    make_customers(org, 10)

    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)

    messages = Message.objects.filter(campaign=campaign)
    assert messages.exclude(gateway_message_id="").count() == 4
    assert messages.filter(reason_code="out_of_credits").count() == 6
    assert Org.objects.get(pk=org.pk).credits == 0
    assert Campaign.objects.get(pk=campaign.pk).credits_charged == 4


@pytest.mark.parametrize("recipients, batch_size", [(30, 10), (300, 100)])
def test_dispatch_queries_grow_with_batches_not_recipients(
    template, manager, settings, recipients, batch_size, django_assert_max_num_queries
):
    # given the same number of batches (3) for 30 and for 300 recipients
    settings.DISPATCH_BATCH_SIZE = batch_size
    make_customers(template.org, recipients)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)

    # when it is dispatched (each batch a task of its own, which reads its campaign and counts itself done, once),
    # then the query count is the same bound for both sizes
    with django_assert_max_num_queries(61):
        campaign_dispatch(campaign_id=campaign.pk)
    assert Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).count() == recipients
