"""What dispatch writes for each message is exactly what was rendered, whatever characters the text holds."""

from collections import Counter
from types import SimpleNamespace

from campaigns.models import Campaign, Customer
from campaigns.sending import dispatch
from campaigns.sending.dispatch import Dispatcher
from delivery.models import Message
from linktrack.models import ShortLink
from linktrack.redirect import codes
from tests.factories import TemplateFactory, create_campaign, make_customers
from tests.helpers import launch


def test_a_message_keeps_line_breaks_tabs_and_backslashes_of_its_text(
    org, sender, manager, django_capture_on_commit_callbacks
):
    # given a template whose fixed text has a line break and a tab, and a customer whose name has a backslash
    template = TemplateFactory(
        org=org,
        name="Lines",
        sender=sender,
        dlt_template_id="1707160000000000077",
        body="Hi {#var#},\nyour order:\t{#var#} - Acme",
    )
    customer = Customer.objects.create(org=org, name="Asha \\ Rao", mobile="+919810000001")

    # when the campaign is launched
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)

    # then the stored message is the rendered text, character for character, with the customer's own short link
    message = Message.objects.get(campaign=campaign, customer=customer)
    link = ShortLink.objects.get(campaign=campaign)
    code = codes.encode(link.pk, message.pk)
    assert message.body.endswith(f"/{code} - Acme")
    assert message.body.startswith("Hi Asha \\ Rao,\nyour order:\t")
    assert (message.segments, message.gateway_message_id) == (1, f"sim-t-{message.pk}")


def test_a_slot_showing_a_customer_attribute_reads_each_customers_value(
    org, sender, manager, django_capture_on_commit_callbacks
):
    # given a template showing the customer's city, a customer with a city and one without
    template = TemplateFactory(
        org=org, name="City", sender=sender, dlt_template_id="1707160000000000078", body="Sale in: {#var#}. Acme"
    )
    Customer.objects.create(org=org, name="Pune fan", mobile="+919810000001", attributes={"city": "Pune"})
    Customer.objects.create(org=org, name="Nowhere", mobile="+919810000002")
    slots = [{"source": "field", "value": "city"}]

    # when the campaign is launched
    campaign = launch(
        create_campaign(template, manager, slot_values=slots), manager, django_capture_on_commit_callbacks
    )

    # then each message shows that customer's city, or nothing when the customer has none
    bodies = dict(Message.objects.filter(campaign=campaign).values_list("customer__name", "body"))
    assert bodies == {"Pune fan": "Sale in: Pune. Acme", "Nowhere": "Sale in: . Acme"}


def test_a_batch_of_an_older_plan_never_makes_a_second_message(template, manager):
    # given a campaign being dispatched, and a batch of customers 1 to 6 queued by a planner before a restart
    customers = make_customers(template.org, 6)
    ids = [c.pk for c in customers]
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)
    loaded = Campaign.objects.select_related("org", "template__sender")
    assert Dispatcher(loaded.get(pk=campaign.pk), plan=1).prepare(ids[:2])

    # when the new plan's batch prepares customers 3 and 4, then the old batch runs with 3 to 6 as it was queued
    assert Dispatcher(loaded.get(pk=campaign.pk), plan=2).prepare(ids[2:4])
    assert Dispatcher(loaded.get(pk=campaign.pk), plan=1).prepare(ids[2:])

    # then every customer has one message, and only those messages were charged
    per_customer = Counter(Message.objects.filter(campaign=campaign).values_list("customer_id", flat=True))
    assert per_customer == dict.fromkeys(ids, 1)
    assert Campaign.objects.get(pk=campaign.pk).credits_charged == 6


def test_a_batch_run_twice_counts_once_and_the_campaign_waits_for_its_last_batch(
    template, manager, settings, monkeypatch
):
    # given a campaign of 6 planned in batches of 2, the batch tasks kept in a queue of the test's own
    settings.DISPATCH_BATCH_SIZE = 2
    make_customers(template.org, 6)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)
    queued: list[tuple] = []
    monkeypatch.setattr(dispatch, "_batch_task", lambda: SimpleNamespace(delay=lambda *task: queued.append(task)))
    dispatch.campaign_dispatch(campaign_id=campaign.pk)
    assert [number for *_, number in queued] == [1, 2, 3]

    def run(task):
        campaign_id, plan, customer_ids, number = task
        dispatch.campaign_dispatch_batch(campaign_id=campaign_id, plan=plan, customer_ids=customer_ids, number=number)

    # when the first batch runs, and runs again (a broker handing it out twice: a worker died after its work
    # committed, before its acknowledgement left), then the second
    run(queued[0])
    run(queued[0])
    run(queued[1])

    # then the campaign still waits for its third batch
    campaign.refresh_from_db()
    assert (campaign.status, campaign.dispatch_batches_left) == (Campaign.Status.DISPATCHING, 1)
    # and once that has run every customer has a message and the campaign is prepared
    run(queued[2])
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DISPATCHED
    assert Message.objects.filter(campaign=campaign).count() == 6 and campaign.credits_charged == 6
