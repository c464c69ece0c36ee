"""Test data: one factory_boy factory per model the tests build, and the few builders that do more than build a row.

A factory's defaults are the shared fixtures' values (the org "Acme Retail", its sender ACMERT, the template "Order
shipped"); a test passes whatever it asserts on. Foreign keys follow each other: a campaign's org is its template's,
a template's sender belongs to the template's org, a message goes to a customer of its campaign's org.
"""

import uuid

import factory
from django.db import transaction
from django.utils import timezone
from factory.django import DjangoModelFactory

from campaigns.lifecycle import services as campaign_services
from campaigns.models import (
    Campaign,
    Customer,
    CustomerList,
    Membership,
    Org,
    Segment,
    SenderId,
    Template,
    User,
)
from delivery.models import GatewayConfig, Message
from linktrack.counts.counters import counted_of, counters_add
from linktrack.models import Click, ShortLink
from linktrack.redirect import short_links

PASSWORD = "a-long-test-password-1"
# A campaign's slot values for the test template ("Hi {#var#}, ... Track it: {#var#}"): the name and a tracked link.
LINK_SLOTS = [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/t"}]


# --- Rows -----------------------------------------------------------------------------------------------------


class OrgFactory(DjangoModelFactory):
    class Meta:
        model = Org

    name = factory.Sequence(lambda n: f"Org {n}")


class UserFactory(DjangoModelFactory):
    """A user with the test password (hashed as sign-in checks it); `member_of=org` makes them a member of it."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@acme.test")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(kwargs.pop("email"), kwargs.pop("password"), **kwargs)

    @factory.post_generation
    def member_of(self, create, org, **kwargs):
        if create and org is not None:
            MembershipFactory(user=self, org=org, **kwargs)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    org = factory.SubFactory(OrgFactory)


class SenderIdFactory(DjangoModelFactory):
    class Meta:
        model = SenderId

    org = factory.SubFactory(OrgFactory)
    header = "ACMERT"
    category = SenderId.Category.SERVICE_IMPLICIT
    dlt_entity_id = "1701160000000000001"


class TemplateFactory(DjangoModelFactory):
    class Meta:
        model = Template

    org = factory.SubFactory(OrgFactory)
    name = "Order shipped"
    sender = factory.SubFactory(SenderIdFactory, org=factory.SelfAttribute("..org"))
    dlt_template_id = "1707160000000000001"
    body = "Hi {#var#}, your order has shipped. Track it: {#var#} - Acme"


class CampaignFactory(DjangoModelFactory):
    """A campaign row as it is stored, without the checks and history of campaign_create (see create_campaign)."""

    class Meta:
        model = Campaign

    template = factory.SubFactory(TemplateFactory)
    org = factory.SelfAttribute("template.org")
    name = "Sale"


class CustomerFactory(DjangoModelFactory):
    """Customer n: "Customer n", mobile +91981 and n in seven digits, external id "Cn"."""

    class Meta:
        model = Customer

    class Params:
        number = factory.Sequence(lambda n: n + 1)

    org = factory.SubFactory(OrgFactory)
    name = factory.LazyAttribute(lambda o: f"Customer {o.number}")
    mobile = factory.LazyAttribute(lambda o: f"+91981{o.number:07d}")
    external_id = factory.LazyAttribute(lambda o: f"C{o.number}")


class CustomerListFactory(DjangoModelFactory):
    class Meta:
        model = CustomerList

    org = factory.SubFactory(OrgFactory)
    name = factory.Sequence(lambda n: f"List {n}")


class SegmentFactory(DjangoModelFactory):
    class Meta:
        model = Segment

    org = factory.SubFactory(OrgFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")


class MessageFactory(DjangoModelFactory):
    """A message of a campaign to one of its org's customers, on the template's channel, to the customer's mobile."""

    class Meta:
        model = Message

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory, org=factory.SelfAttribute("..campaign.org"))
    channel = factory.LazyAttribute(lambda o: o.campaign.template.channel)
    recipient = factory.LazyAttribute(lambda o: o.customer.mobile)


class ShortLinkFactory(DjangoModelFactory):
    class Meta:
        model = ShortLink

    campaign = factory.SubFactory(CampaignFactory)
    destination = "https://acme.test/sale"


class ClickFactory(DjangoModelFactory):
    """A click on a short link, by a phone unless `user_agent` says otherwise, now unless `clicked_at` does."""

    class Meta:
        model = Click

    event_id = factory.LazyFunction(lambda: uuid.uuid4().hex)
    short_link = factory.SubFactory(ShortLinkFactory)
    campaign = factory.SelfAttribute("short_link.campaign")
    channel = factory.LazyAttribute(lambda o: o.campaign.template.channel)
    clicked_at = factory.LazyFunction(timezone.now)
    user_agent = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return store_click(**kwargs)


def store_clicks(clicks: list[Click]) -> list[Click]:
    """Store clicks made by a test and add them to the click counters, as the click flush does."""
    with transaction.atomic():
        stored = Click.objects.bulk_create(clicks)
        counters_add(counted_of(stored))
    return stored


def store_click(**fields) -> Click:
    """One click stored and counted (see store_clicks)."""
    fields.setdefault("event_id", uuid.uuid4().hex)
    return store_clicks([Click(**fields)])[0]


class HttpGatewayConfigFactory(DjangoModelFactory):
    """An org's HTTP gateway for SMS, with secrets (which must never be shown back) and quick retries."""

    class Meta:
        model = GatewayConfig

    org = factory.SubFactory(OrgFactory)
    channel = "sms"
    kind = GatewayConfig.Kind.HTTP
    name = "Test HTTP gateway"
    settings = factory.Dict(
        {"url": "http://127.0.0.1:9/sms", "timeout": 2, "max_retries": 2, "backoff": 0.01, "receipt_format": "infobip"}
    )
    credentials = factory.Dict(
        {"api_key": "sk-live-SECRET-123", "webhook_secret": "whsec-abc-987", "auth_token": "tw-token-42"}
    )


# --- Builders that do more than build a row -------------------------------------------------------------------


def http_config(org: Org, url: str, **options) -> GatewayConfig:
    """The org's HTTP gateway at `url` (see HttpGatewayConfigFactory), its settings changed by `options`."""
    settings = {"url": url, "timeout": 2, "max_retries": 2, "backoff": 0.01, "receipt_format": "infobip"}
    settings.update(options)
    return HttpGatewayConfigFactory(org=org, settings=settings)


def make_customers(org: Org, count: int, **fields) -> list[Customer]:
    """Customers 1 to `count` of the org (see CustomerFactory), written in one query."""
    return Customer.objects.bulk_create(
        [CustomerFactory.build(org=org, number=n, **fields) for n in range(1, count + 1)]
    )


def make_messages(campaign: Campaign, customers: list[Customer], **fields) -> list[Message]:
    """A message of the campaign to each customer, written in one query."""
    return Message.objects.bulk_create(
        [MessageFactory.build(campaign=campaign, customer=customer, **fields) for customer in customers]
    )


def create_campaign(template: Template, user: User, **fields) -> Campaign:
    """A draft as the campaign form creates it: checked, with its "created" event (campaign_create), named
    "Campaign" and sending the name and a tracked link unless `fields` say otherwise."""
    return campaign_services.campaign_create(
        org=template.org,
        user=user,
        name=fields.pop("name", "Campaign"),
        template=template,
        slot_values=fields.pop("slot_values", LINK_SLOTS),
        **fields,
    )


def dispatched_campaign(template: Template, name: str = "Diwali sale", recipients: int = 3) -> Campaign:
    """A campaign handed to the gateway, delivered to the org's first `recipients` customers (made when the org has
    none), with one short link to https://acme.test/sale."""
    campaign = CampaignFactory(template=template, name=name, status="dispatched")
    if not template.org.customers.exists():
        make_customers(template.org, recipients)
    customers = list(Customer.objects.filter(org=template.org).order_by("pk")[:recipients])
    make_messages(campaign, customers, channel="sms", status="delivered")
    short_links.short_links_for(campaign=campaign, destinations=["https://acme.test/sale"])
    return campaign


def sent_campaign(template: Template, sent_at) -> tuple[Campaign, ShortLink, list[Message]]:
    """The campaign "Diwali" launched at `sent_at`, delivered to 3 new customers then, with one short link to
    https://acme.test/sale; returns the campaign, its link and its messages."""
    campaign = CampaignFactory(template=template, name="Diwali", launched_at=sent_at)
    customers = make_customers(template.org, 3)
    messages = make_messages(campaign, customers, channel="sms", status="delivered", sent_at=sent_at)
    link_id = short_links.short_links_for(campaign=campaign, destinations=["https://acme.test/sale"])
    return campaign, ShortLink.objects.get(pk=link_id["https://acme.test/sale"]), messages
