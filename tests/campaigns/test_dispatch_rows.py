"""What dispatch writes for each message is exactly what was rendered, whatever characters the text holds."""

from campaigns.models import Customer, Template
from delivery.models import Message
from linktrack import codes
from linktrack.models import ShortLink
from tests.campaigns.dispatch_helpers import launch, make_campaign


def test_a_message_keeps_line_breaks_tabs_and_backslashes_of_its_text(
    org, sender, manager, django_capture_on_commit_callbacks
):
    # given a template whose fixed text has a line break and a tab, and a customer whose name has a backslash
    template = Template.objects.create(
        org=org,
        name="Lines",
        sender=sender,
        dlt_template_id="1707160000000000077",
        body="Hi {#var#},\nyour order:\t{#var#} - Acme",
    )
    customer = Customer.objects.create(org=org, name="Asha \\ Rao", mobile="+919810000001")

    # when the campaign is launched
    campaign = launch(make_campaign(template, manager), manager, django_capture_on_commit_callbacks)

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
    template = Template.objects.create(
        org=org, name="City", sender=sender, dlt_template_id="1707160000000000078", body="Sale in: {#var#}. Acme"
    )
    Customer.objects.create(org=org, name="Pune fan", mobile="+919810000001", attributes={"city": "Pune"})
    Customer.objects.create(org=org, name="Nowhere", mobile="+919810000002")
    slots = [{"source": "field", "value": "city"}]

    # when the campaign is launched
    campaign = launch(make_campaign(template, manager, slot_values=slots), manager, django_capture_on_commit_callbacks)

    # then each message shows that customer's city, or nothing when the customer has none
    bodies = dict(Message.objects.filter(campaign=campaign).values_list("customer__name", "body"))
    assert bodies == {"Pune fan": "Sale in: Pune. Acme", "Nowhere": "Sale in: . Acme"}
