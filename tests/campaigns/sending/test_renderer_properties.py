"""Property test of MessageRenderer: whatever a customer's name or attribute holds, that customer's message is
rendered or marked not sent with a reason from the catalogue, and the other customer's message goes out as usual."""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.models import Campaign, Customer
from campaigns.sending.renderer import MessageRenderer
from delivery import reasons
from delivery.models import Message
from tests.campaigns.dlt.test_rendering_properties import VALUES
from tests.factories import CampaignFactory, make_customers

# What a stored customer can hold: PostgreSQL keeps no NUL in text or JSON, and an import skips such a row.
STORED = VALUES.map(lambda value: value.replace("\x00", ""))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=STORED, website=st.one_of(STORED, st.integers(), st.none(), st.booleans()))
@example(name="Asha", website="https://b\x80d.in/")
@example(name="Asha", website="https://[1")
def test_whatever_a_customer_holds_their_message_is_rendered_or_not_sent_with_a_reason(template, org, name, website):
    # given a campaign whose variables are the customer's name and website, to a customer holding anything and
    # an ordinary one
    odd, ordinary = make_customers(org, 2)
    ordinary.attributes = {"website": "https://acme.in/"}
    campaign = CampaignFactory(
        org=org,
        name="Fuzz",
        template=template,
        slot_values=[{"source": "field", "value": "name"}, {"source": "field", "value": "website"}],
    )
    messages = Message.objects.bulk_create(
        [Message(campaign=campaign, customer=c, channel="sms", recipient=c.mobile) for c in (odd, ordinary)]
    )
    odd.name, odd.attributes = name, {"website": website}

    # when its messages are rendered
    MessageRenderer(Campaign.objects.select_related("org", "template").get(pk=campaign.pk)).render(messages)

    # then the odd one is rendered or not sent with a catalogued reason, and the ordinary one is rendered
    assert messages[0].status in (Message.Status.QUEUED, Message.Status.NOT_SENT)
    if messages[0].status == Message.Status.NOT_SENT:
        assert messages[0].reason_code in reasons.REASONS
    assert messages[1].status == Message.Status.QUEUED and messages[1].body.startswith("Hi Customer 2,")
    Customer.objects.filter(pk__in=[odd.pk, ordinary.pk]).delete()
