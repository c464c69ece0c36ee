"""Fixtures of the customer erasure tests: Asha and four other customers, a campaign sent to them."""

from datetime import date

import pytest

from campaigns.models import Campaign, Coupon, Customer
from delivery.models import Message
from tests.campaigns.customers.erasure.helpers import DESKTOP, EMAIL, EXTERNAL_ID, IPHONE, MOBILE, NAME, PHONE, _click
from tests.factories import CustomerFactory, CustomerListFactory, create_campaign, make_customers
from tests.helpers import launch


@pytest.fixture(autouse=True)
def _every_message_delivered(settings):
    # The simulated gateway picks each outcome from the message id, and ids differ from run to run on PostgreSQL:
    # every message here is delivered (with its receipt), and the tests set the outcomes they need themselves.
    settings.SIMULATED_GATEWAY_MIX = "delivered:100"


@pytest.fixture
def asha(org) -> Customer:
    customer = CustomerFactory(
        org=org, name=NAME, mobile=MOBILE, email=EMAIL, external_id=EXTERNAL_ID, attributes={"area": "Kothrud"}
    )
    Coupon.objects.create(customer=customer, code="ASHA10", expires_on=date(2026, 12, 31))
    CustomerListFactory(org=org, name="Loyal").customers.add(customer)
    return customer


@pytest.fixture
def others(org) -> list[Customer]:
    return make_customers(org, 4)


@pytest.fixture
def sent(client, manager, template, asha, others, django_capture_on_commit_callbacks) -> Campaign:
    """A campaign to Asha and four others; Asha's message failed (a receipt said undeliverable) after she clicked it
    from her phone twice, a link preview fetched it, and two others clicked from an iPhone and a desktop."""
    campaign = launch(create_campaign(template, manager, name="Diwali"), manager, django_capture_on_commit_callbacks)
    messages = {m.customer_id: m for m in Message.objects.filter(campaign=campaign)}
    Message.objects.filter(pk=messages[asha.pk].pk).update(
        status=Message.Status.NOT_DELIVERED, reason_code="undeliverable", gateway_error="UNDELIV:001"
    )
    for agent in (PHONE, PHONE, "WhatsApp/2.23.20.0 A"):
        _click(client, messages[asha.pk], agent)
    _click(client, messages[others[0].pk], IPHONE)
    _click(client, messages[others[1].pk], DESKTOP)
    return campaign
