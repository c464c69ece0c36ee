import uuid

import pytest

from campaigns.models import Campaign
from delivery.models import Message
from linktrack.models import ShortLink
from linktrack.redirect import clicks, short_domains
from tests.factories import CampaignFactory, make_messages
from tests.linktrack.helpers import link_for
from tests.linktrack.redirect.wsgi_client import WsgiClient


@pytest.fixture(autouse=True)
def _fresh_short_domains():
    short_domains.short_domains_forget()
    yield
    short_domains.short_domains_forget()


@pytest.fixture
def hosts(settings):
    settings.ALLOWED_HOSTS = ["testserver", "s.acme.test", "s.other.test", "s.cplry.com"]


@pytest.fixture
def acme_on_own_domain(org, hosts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        org.short_domain = "s.acme.test"
        org.save()
    return org


@pytest.fixture
def campaign(template) -> Campaign:
    return CampaignFactory(template=template, utm_params={"utm_source": "sms", "utm_campaign": "diwali"})


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


@pytest.fixture
def client():
    """Every redirect test's requests go through the project's WSGI entry, the short-domain front included."""
    return WsgiClient()
