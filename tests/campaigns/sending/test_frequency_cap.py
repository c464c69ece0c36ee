"""Frequency cap: an org's "at most N promotional messages per customer in D days" is never exceeded by dispatch;
recipients over it are not sent, reason frequency_cap."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.lifecycle import services
from campaigns.models import Campaign, Customer, Org, SenderId, Template
from campaigns.sending import dispatch
from campaigns.sending.dispatch import Dispatcher, campaign_dispatch
from campaigns.sending.rules import capped_customers
from delivery.models import Message
from tests.campaigns.helpers import dispatch_at_once
from tests.campaigns.sending.frequency_cap import cap
from tests.factories import CustomerListFactory, SenderIdFactory, TemplateFactory, create_campaign, make_customers
from tests.helpers import launch

CAP = "frequency_cap"
NAME_SLOT = [{"source": "field", "value": "name"}]


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(org=org, name="Mail", channel="email", subject="Sale", body="Hello {#var#}")


@pytest.fixture
def send(manager, clock, django_capture_on_commit_callbacks):
    """Launch a campaign of `template` to `to` (a list of customers; everyone when None), inside the promotional
    window; the dispatch and send tasks run in-process."""
    sent = []

    def send(template: Template, to: list[Customer] | None = None, **fields) -> Campaign:
        audience = None
        if to is not None:
            audience = CustomerListFactory(org=template.org, name=f"List {len(sent) + 1}")
            audience.customers.set(to)
        slots = NAME_SLOT if template.channel == "email" else None
        campaign = create_campaign(
            template,
            manager,
            name=f"Campaign {len(sent) + 1}",
            audience_list=audience,
            **({"slot_values": slots} if slots else {}),
            **fields,
        )
        sent.append(campaign)
        return launch(campaign, manager, django_capture_on_commit_callbacks)

    return send


def outcomes(campaign: Campaign) -> dict[str, str]:
    return {m.customer.name: m.reason_code or m.status for m in Message.objects.filter(campaign=campaign)}


def capped(campaign: Campaign) -> set[str]:
    return {name for name, outcome in outcomes(campaign).items() if outcome == CAP}


def test_recipients_at_the_cap_are_not_sent_and_those_below_it_are(org, people, promotional_template, send):
    # given a cap of 2 in 7 days: asha already has 2 promotional messages, bala 1, chitra none
    cap(org, 2)
    send(promotional_template, [people["asha"], people["bala"]])
    send(promotional_template, [people["asha"]])

    # when a third promotional campaign goes to all three
    third = send(promotional_template)

    # then asha is not sent (reason frequency_cap, no credit taken), bala and chitra are handed over
    assert capped(third) == {"asha"}
    messages = Message.objects.filter(campaign=third)
    assert messages.get(customer=people["asha"]).status == Message.Status.NOT_SENT
    assert set(messages.exclude(gateway_message_id="").values_list("customer__name", flat=True)) == {"bala", "chitra"}
    assert Campaign.objects.get(pk=third.pk).credits_charged == 2


def test_messages_older_than_the_period_do_not_count(org, people, promotional_template, send):
    # given a cap of 2 in 7 days and asha's two earlier messages, one of them 8 days old
    cap(org, 2, days=7)
    old = send(promotional_template, [people["asha"]])
    Message.objects.filter(campaign=old).update(created_at=timezone.now() - timedelta(days=8))
    send(promotional_template, [people["asha"]])

    third = send(promotional_template, [people["asha"]])

    assert capped(third) == set()


def test_a_longer_period_counts_the_older_message(org, people, promotional_template, send):
    cap(org, 2, days=10)
    old = send(promotional_template, [people["asha"]])
    Message.objects.filter(campaign=old).update(created_at=timezone.now() - timedelta(days=8))
    send(promotional_template, [people["asha"]])

    third = send(promotional_template, [people["asha"]])

    assert capped(third) == {"asha"}


def test_messages_of_the_other_channel_do_not_count(org, people, promotional_template, email_template, send):
    # given a cap of 1: asha has had an email, bala a promotional SMS
    cap(org, 1)
    send(email_template, [people["asha"]])
    send(promotional_template, [people["bala"]])

    # when an SMS and an email campaign go to both
    sms = send(promotional_template, [people["asha"], people["bala"]])
    email = send(email_template, [people["asha"], people["bala"]])

    # then each channel counts only its own messages (email campaigns are capped too)
    assert capped(sms) == {"bala"}
    assert capped(email) == {"asha"}


def test_messages_that_were_not_sent_do_not_count(org, people, promotional_template, send):
    # given a cap of 2: asha was unsubscribed during two earlier campaigns, bala was sent one of them
    cap(org, 2)
    Customer.objects.filter(pk=people["asha"].pk).update(sms_subscribed=False)
    first = send(promotional_template, [people["asha"], people["bala"]])
    send(promotional_template, [people["asha"]])
    Customer.objects.filter(pk=people["asha"].pk).update(sms_subscribed=True)
    assert outcomes(first)["asha"] == "unsubscribed"

    third = send(promotional_template, [people["asha"], people["bala"]])

    assert capped(third) == set()


@pytest.mark.parametrize("category", [SenderId.Category.TRANSACTIONAL, SenderId.Category.SERVICE_IMPLICIT])
def test_transactional_and_service_messages_are_never_capped_nor_counted(
    org, people, promotional_template, send, category
):
    # given a cap of 1 and asha's earlier promotional message
    cap(org, 1)
    sender = SenderIdFactory(org=org, header="ACMEBK", category=category, dlt_entity_id="1701160000000000003")
    service = TemplateFactory(
        org=org, name="Order", sender=sender, dlt_template_id="1707160000000000031", body="Hi {#var#}, order {#var#}"
    )
    send(promotional_template, [people["asha"]])

    # when a transactional (or service) campaign goes to everyone, twice, then a promotional one to bala
    first_service = send(service)
    second_service = send(service)
    promotional = send(promotional_template, [people["bala"]])

    # then no service message is held back, and service messages do not count against the promotional cap
    assert capped(first_service) == capped(second_service) == set()
    assert Message.objects.filter(campaign=second_service).exclude(gateway_message_id="").count() == 3
    assert capped(promotional) == set()


def test_another_orgs_messages_do_not_count(org, other_org, people, promotional_template, manager, send):
    # given the same number as a customer of another org, who has had that org's promotional messages
    cap(org, 1)
    cap(other_org, 1)
    twin = Customer.objects.create(org=other_org, name="asha elsewhere", mobile=people["asha"].mobile)
    other_sender = SenderIdFactory(
        org=other_org, header="667890", category=SenderId.Category.PROMOTIONAL, dlt_entity_id="1701160000000000004"
    )
    other_template = Template.objects.create(
        dlt_template_id="1707160000000000009",
        org=other_org,
        name="Other sale",
        sender=other_sender,
        body="Hi {#var#}, sale: {#var#}",
    )
    send(other_template, [twin])
    assert capped(send(other_template, [twin])) == {"asha elsewhere"}

    # when our org sends a promotional campaign to asha, then it is not held back
    assert capped(send(promotional_template, [people["asha"]])) == set()


def test_without_a_cap_nothing_is_held_back(org, people, promotional_template, send):
    for _ in range(3):
        send(promotional_template)

    assert capped(send(promotional_template)) == set()


def test_a_cap_set_while_a_campaign_is_prepared_applies_to_its_next_batch(
    org, people, promotional_template, manager, send
):
    # given asha's earlier promotional message and a campaign whose dispatcher started before the cap was set
    send(promotional_template, [people["asha"]])
    campaign = create_campaign(promotional_template, manager, name="Started")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)
    dispatcher = Dispatcher(Campaign.objects.select_related("org", "template__sender").get(pk=campaign.pk))

    # when the cap is set and the dispatcher then prepares its batch
    cap(org, 1)
    dispatcher.prepare([customer.pk for customer in people.values()])

    # then the cap holds asha back
    assert capped(campaign) == {"asha"}


def test_the_campaigns_own_messages_do_not_count(org, people, promotional_template, send):
    cap(org, 1)
    campaign = send(promotional_template, [people["asha"]])
    org.refresh_from_db()

    # asha's one message is this campaign's: she is not over the cap for it, and is for any other campaign
    assert capped_customers(org=org, campaign_id=campaign.pk, channel="sms", customer_ids=[people["asha"].pk]) == set()
    assert capped_customers(org=org, campaign_id=0, channel="sms", customer_ids=[people["asha"].pk]) == {
        people["asha"].pk
    }


def test_capped_recipients_are_offered_for_a_resend_that_is_checked_again(
    org, people, promotional_template, manager, send, django_capture_on_commit_callbacks
):
    # given a cap of 1 and a campaign that held asha back
    cap(org, 1)
    earlier = send(promotional_template, [people["asha"]])
    held = send(promotional_template)
    assert capped(held) == {"asha"}
    assert (CAP, "Customer reached the message limit", 1) in services.resend_options(source=held)

    # when, once her earlier message is older than the period, the capped recipients are resent to
    Message.objects.filter(campaign=earlier).update(created_at=timezone.now() - timedelta(days=8))
    resend = services.campaign_resend_create(
        source=held,
        user=manager,
        name="Resend",
        template=promotional_template,
        slot_values=held.slot_values,
        reasons=[CAP],
    )
    resend = launch(resend, manager, django_capture_on_commit_callbacks)

    # then she is sent the resend
    assert Message.objects.get(campaign=resend).customer == people["asha"]
    assert capped(resend) == set()


# --- queries ---------------------------------------------------------------------------------------------------


def _dispatch_queries(template: Template, manager, customers: int, org: Org) -> list[str]:
    Customer.objects.filter(org=org).delete()
    make_customers(org, customers)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)
    with CaptureQueriesContext(connection) as captured:
        campaign_dispatch(campaign_id=campaign.pk)
    assert Message.objects.filter(campaign=campaign).count() == customers
    return [query["sql"] for query in captured.captured_queries]


def test_the_cap_costs_one_query_per_batch_whatever_the_number_of_recipients(
    org, promotional_template, manager, clock, settings
):
    # given batches large enough for 3 and for 30 recipients at once
    settings.DISPATCH_BATCH_SIZE = 1000
    without = _dispatch_queries(promotional_template, manager, 3, org)

    # when campaigns of 3 and of 30 recipients are dispatched with a cap
    cap(org, 2)
    few, many = (_dispatch_queries(promotional_template, manager, size, org) for size in (3, 30))

    # then the cap adds one query, the same for both
    assert len(few) == len(many) == len(without) + 1
    assert sum("HAVING" in sql for sql in many) == 1


def test_the_cap_asks_once_for_each_batch(org, promotional_template, manager, clock, settings):
    settings.DISPATCH_BATCH_SIZE = 10
    without = _dispatch_queries(promotional_template, manager, 30, org)
    cap(org, 2)

    with_cap = _dispatch_queries(promotional_template, manager, 30, org)

    assert len(with_cap) == len(without) + 3
    assert sum("HAVING" in sql for sql in with_cap) == 3


@pytest.mark.parametrize("recipients", [3, 30])
def test_without_a_cap_a_promotional_dispatch_asks_nothing_more(
    org, promotional_template, manager, clock, settings, monkeypatch, recipients
):
    # given an org without a cap, and the same dispatch as if the campaign were not promotional for the cap
    settings.DISPATCH_BATCH_SIZE = 1000
    with monkeypatch.context() as patch:  # undoing only this, not the clock's noon
        patch.setattr(dispatch, "campaign_is_capped", lambda campaign: False)
        never_capped = _dispatch_queries(promotional_template, manager, recipients, org)

    # when it is dispatched as the promotional campaign it is
    promotional = _dispatch_queries(promotional_template, manager, recipients, org)

    # then it asks exactly the same queries: no check without a cap
    assert len(promotional) == len(never_capped)
    assert not any("HAVING" in sql for sql in promotional)


# --- two campaigns at once ---------------------------------------------------------------------------------------


def test_two_promotional_campaigns_sent_at_once_never_go_past_the_cap(
    postgres, transactional_db, promotional_template, manager, clock, settings
):
    # given a cap of 1 in 7 days, 12 customers and two promotional campaigns to all of them, in batches of 3
    settings.DISPATCH_BATCH_SIZE = 3
    org = promotional_template.org
    cap(org, 1)
    make_customers(org, 12)
    campaigns = [create_campaign(promotional_template, manager, name=f"Sale {n}") for n in (1, 2)]
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(status=Campaign.Status.DISPATCHING)

    # when both dispatch at the same moment (two database connections)
    errors = dispatch_at_once(campaigns)

    # then every customer was handed exactly one of the two messages; the other is "not sent: frequency cap"
    assert errors == []
    messages = Message.objects.filter(campaign__in=campaigns)
    assert messages.count() == 24
    handed_over = messages.exclude(status=Message.Status.NOT_SENT)
    assert sorted(handed_over.values_list("customer_id", flat=True)) == sorted(
        Customer.objects.filter(org=org).values_list("pk", flat=True)
    )
    assert messages.filter(reason_code=CAP).count() == 12
