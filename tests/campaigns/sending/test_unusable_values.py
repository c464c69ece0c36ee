"""A customer value that cannot be sent costs that customer's message, never the campaign; a dispatch that keeps
failing is paused with the reason on the campaign page instead of being restarted forever."""

from datetime import timedelta

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns.models import Campaign, CampaignEvent, Channel, Customer, Org, Template
from campaigns.sending import renderer
from campaigns.sending.message_drafts import AudienceCustomer, MessageDraft
from campaigns.sending.renderer import MessageRenderer
from campaigns.sending.supervisor import campaigns_supervise
from delivery.models import Message
from tests.factories import CampaignFactory

WEBSITE_SLOTS = [{"source": "field", "value": "name"}, {"source": "field", "value": "website"}]


@pytest.mark.parametrize("website", ["https://b\x80d.in/", "https://é.in:99999/"])
def test_a_customer_link_no_browser_could_open_costs_only_that_customers_message(
    org, customers, send_campaign, website
):
    # given 10 customers with a website, one of them written so that no browser could open it
    for customer in customers:
        customer.attributes = {"website": "https://acme.in/p"}
    customers[3].attributes = {"website": website}
    Customer.objects.bulk_update(customers, ["attributes"])
    credits = Org.objects.get(pk=org.pk).credits

    # when a campaign sending each customer their website is launched
    campaign = send_campaign(slot_values=WEBSITE_SLOTS)

    # then that customer's message is not sent, with a reason in words, and the other 9 go out
    assert campaign.status == Campaign.Status.DISPATCHED
    bad = Message.objects.get(campaign=campaign, customer=customers[3])
    assert (bad.status, bad.reason_code) == (Message.Status.NOT_SENT, "unusable_link")
    assert Message.objects.filter(campaign=campaign).exclude(gateway_message_id="").count() == 9
    assert Org.objects.get(pk=org.pk).credits == credits - 9


def test_an_email_href_from_a_customer_that_is_no_address_costs_only_that_email(org, manager, send_campaign):
    # given an email template whose link is the customer's website, one of them "https://[1"
    template = Template.objects.create(
        org=org, name="News", channel=Channel.EMAIL, subject="Hello {#var#}", body="Hi {#var#}, see {#var#}",
        html_body='<p>Hi {#var#}</p><a href="{#var#}">Your page</a>',
    )  # fmt: skip
    for n, website in enumerate(["https://acme.in/a", "https://[1", "https://acme.in/c"]):
        Customer.objects.create(org=org, name=f"c{n}", email=f"c{n}@acme.test", attributes={"website": website})

    # when the campaign is launched
    campaign = send_campaign(slot_values=WEBSITE_SLOTS, use_template=template)

    # then the two others are sent and the third is not sent, "a link in the customer's details cannot be sent"
    outcomes = dict(Message.objects.filter(campaign=campaign).values_list("customer__name", "reason_code"))
    assert outcomes == {"c0": "", "c1": "unusable_link", "c2": ""}
    assert campaign.status == Campaign.Status.DISPATCHED


def test_a_dispatch_that_keeps_failing_is_paused_with_the_reason_on_its_page(
    client, org, customers, manager, send_campaign, clock, settings, monkeypatch
):
    # given rendering fails for any message (a fault of ours no check foresaw)
    settings.DISPATCH_STALE_SECONDS = 60
    settings.DISPATCH_MAX_TRIES = 3

    def fail(self, messages):
        raise UnicodeError("encoding with 'idna' codec failed")

    monkeypatch.setattr(renderer.MessageRenderer, "render", fail)

    # when the campaign is launched and the supervisor passes every minute for ten minutes
    campaign = send_campaign()
    restarts = []
    for _ in range(10):
        clock.moment += timedelta(seconds=61)
        restarts.append(campaigns_supervise()["restarted"])

    # then it was tried 3 times, then paused with the reason on its page and in its history, and left alone
    campaign.refresh_from_db()
    assert sum(restarts) == 2 and campaign.status == Campaign.Status.PAUSED
    assert "preparing its messages failed 3 times in a row (UnicodeError" in campaign.hold_reason
    assert CampaignEvent.objects.filter(campaign=campaign, kind=CampaignEvent.Kind.AUTO_PAUSED).count() == 1
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Paused automatically: preparing its messages failed 3 times in a row" in page
    assert not Message.objects.filter(campaign=campaign).exists()


def test_a_dispatch_whose_worker_dies_each_time_is_paused_after_the_last_try(template, manager, clock, settings):
    # given a campaign whose dispatcher was started 3 times and never finished a batch (its worker died each time)
    settings.DISPATCH_STALE_SECONDS = 60
    settings.DISPATCH_MAX_TRIES = 3
    campaign = CampaignFactory(
        template=template, status=Campaign.Status.DISPATCHING, launched_at=clock.moment,
        heartbeat_at=clock.moment - timedelta(minutes=5), dispatch_tries=3,
    )  # fmt: skip

    # when the supervisor passes
    result = campaigns_supervise()

    # then it is paused, not restarted, and says why
    campaign.refresh_from_db()
    assert result["restarted"] == 0 and campaign.status == Campaign.Status.PAUSED
    assert "stopped 3 times in a row before preparing any" in campaign.hold_reason


# Values a customer's data may hold: any text, and text shaped like links, broken in every way.
_LINKISH = st.builds(
    lambda scheme, host, rest: f"{scheme}{host}{rest}",
    st.sampled_from(["https://", "http://", "HTTPS://", "www.", "https://[", ""]),
    st.text(min_size=1, max_size=20),
    st.sampled_from(["", "/", ".in", ".in/", ".in:99999/", ":80/", "]/x", ".com/p?q=1#f"]),
)
_VALUES = st.one_of(st.text(max_size=40), _LINKISH)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL])
def test_any_customer_value_renders_or_is_not_sent_with_a_reason(org, sender, channel):
    # given an SMS and an email campaign whose link and name come from customer fields
    if channel == Channel.SMS:
        template = Template.objects.create(
            dlt_template_id="1707160000000000009",
            org=org,
            name="T",
            sender=sender,
            body="Hi {#var#}, see {#var#} - Acme",
        )
    else:
        template = Template.objects.create(
            org=org, name="E", channel=channel, subject="Hi {#var#}", body="Hi {#var#}, see {#var#}",
            html_body='<p>{#var#}</p><a href="{#var#}">x</a>',
        )  # fmt: skip
    campaign = Campaign.objects.select_related("org", "template").get(
        pk=CampaignFactory(template=template, slot_values=WEBSITE_SLOTS).pk
    )
    rendering = MessageRenderer(campaign)
    known_reasons = {"", "unusable_link", "dlt_template_mismatch"}

    @hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(name=_VALUES, website=_VALUES)
    @example(name="Asha", website="https://a\x00b.in/")  # PostgreSQL cannot store a NUL in a short link
    @example(name="Asha", website="https://b\x80d.in/")
    def renders(name, website):
        # when a message is rendered for any name and website
        customer = AudienceCustomer(1, name, "+919810000001", "a@acme.test", "", True, True, {"website": website})
        draft = MessageDraft(customer, "+919810000001")
        draft.pk = 1
        rendering.render([draft])
        # then it is ready to send or not sent with a reason of the catalogue
        assert draft.reason_code in known_reasons
        assert (draft.status == Message.Status.QUEUED) == (draft.reason_code == "")

    renders()
