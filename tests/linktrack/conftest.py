import uuid

import pytest

from campaigns.models import Campaign, Customer, Template
from delivery.models import Message
from linktrack.models import ShortLink
from linktrack.redirect import clicks, codes, short_domains, short_links

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
    "Mobile Safari/537.36"
)
DESTINATION = "https://shop.acme.test/sale?x=1#top"


@pytest.fixture(autouse=True)
def _fresh_short_domains():
    short_domains.short_domains_forget()
    yield
    short_domains.short_domains_forget()


def make_campaign(template: Template, **fields) -> Campaign:
    return Campaign.objects.create(org=template.org, name=fields.pop("name", "Sale"), template=template, **fields)


def make_messages(campaign: Campaign, customers: list[Customer]) -> list[Message]:
    return Message.objects.bulk_create(
        [
            Message(campaign=campaign, customer=c, channel=campaign.template.channel, recipient=c.mobile)
            for c in customers
        ]
    )


def link_for(campaign: Campaign, destination: str = DESTINATION) -> ShortLink:
    link_id = short_links.short_links_for(campaign=campaign, destinations=[destination])[destination]
    return ShortLink.objects.get(pk=link_id)


def path_for(link: ShortLink, message: Message | None = None) -> str:
    return "/s/" + codes.encode(link.pk, message.pk if message else 0)


@pytest.fixture
def campaign(template) -> Campaign:
    return make_campaign(template, utm_params={"utm_source": "sms", "utm_campaign": "diwali"})


@pytest.fixture
def messages(campaign, customers) -> list[Message]:
    return make_messages(campaign, customers)


@pytest.fixture
def link(campaign) -> ShortLink:
    return link_for(campaign)


@pytest.fixture
def click_stream(settings, redis_url):
    """Clicks go to a real Redis stream under a key of this test's own."""
    settings.CLICK_STREAM_URL = redis_url
    settings.CLICK_STREAM_KEY = f"test:clicks:{uuid.uuid4().hex}"
    stream = clicks._click_stream(redis_url)
    yield stream
    stream.delete(settings.CLICK_STREAM_KEY)
