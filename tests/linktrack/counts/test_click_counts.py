"""Total Click Count = human hits; Unique Click Count = distinct recipients with a human hit (for hits without a
recipient: distinct hashed IP + user agent per day). Bots are stored but never counted."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from campaigns.models import Campaign, Template
from delivery.models import Message
from linktrack import services
from linktrack.counts import click_counts as selectors
from linktrack.models import Click, ShortLink
from linktrack.redirect.bots import is_bot
from linktrack.services import click_counters_build
from tests.factories import CampaignFactory, make_customers, store_click

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
WHATSAPP = "WhatsApp/2.23.20.0 A"
NOON = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # 12:00 in India


@pytest.fixture
def sms_campaign(template) -> Campaign:
    return CampaignFactory(org=template.org, name="Diwali", template=template)


@pytest.fixture
def recipients(sms_campaign) -> list[Message]:
    customers = make_customers(sms_campaign.org, 5)
    return Message.objects.bulk_create(
        [Message(campaign=sms_campaign, customer=c, channel="sms", recipient=c.mobile) for c in customers]
    )


def _link(campaign: Campaign, destination: str = "https://shop.acme.test/sale") -> ShortLink:
    return ShortLink.objects.get(
        pk=services.short_links_for(campaign=campaign, destinations=[destination])[destination]
    )


def _hit(link: ShortLink, message: Message | None, *, agent=PHONE, ip="203.0.113.5", at=NOON, method="GET") -> None:
    store_click(
        event_id=uuid.uuid4().hex,
        short_link=link,
        campaign=link.campaign,
        message=message,
        channel=link.campaign.template.channel,
        clicked_at=at,
        ip_hash=services.hash_ip(ip),
        user_agent=agent,
        is_bot=is_bot(agent, method),
    )


def test_repeated_clicks_by_one_recipient_count_once_as_unique(sms_campaign, recipients):
    link = _link(sms_campaign)
    for _ in range(4):
        _hit(link, recipients[0])

    assert selectors.click_counts(campaign_id=sms_campaign.pk) == selectors.ClickCounts(total=4, unique=1)


def test_clicks_by_different_recipients_each_count_as_unique(sms_campaign, recipients):
    link = _link(sms_campaign)
    _hit(link, recipients[0])
    _hit(link, recipients[0])
    _hit(link, recipients[1])
    _hit(link, recipients[2], agent=IPHONE)

    assert selectors.click_counts(campaign_id=sms_campaign.pk) == selectors.ClickCounts(total=4, unique=3)


def test_bots_and_head_requests_are_left_out_of_both_counts(sms_campaign, recipients):
    # given one person's click and link previews on the same and on other messages
    link = _link(sms_campaign)
    _hit(link, recipients[0])
    _hit(link, recipients[0], agent=WHATSAPP)
    _hit(link, recipients[1], agent=WHATSAPP)
    _hit(link, recipients[2], agent="TelegramBot (like TwitterBot)")
    _hit(link, recipients[3], method="HEAD")

    # then only the person counts, though every hit is stored
    assert selectors.click_counts(campaign_id=sms_campaign.pk) == selectors.ClickCounts(total=1, unique=1)
    assert Click.objects.count() == 5


def test_recipient_previewed_by_a_bot_only_is_not_a_unique_click(sms_campaign, recipients):
    _hit(_link(sms_campaign), recipients[0], agent="facebookexternalhit/1.1")
    assert selectors.click_counts(campaign_id=sms_campaign.pk) == selectors.ClickCounts(total=0, unique=0)


def test_hits_without_recipient_count_distinct_ip_and_agent_per_day(sms_campaign):
    link = _link(sms_campaign)
    # the same visitor three times on one day: one unique
    _hit(link, None, ip="203.0.113.1")
    _hit(link, None, ip="203.0.113.1", at=NOON + timedelta(hours=3))
    _hit(link, None, ip="203.0.113.1", at=NOON + timedelta(hours=5))
    # the same visitor the next day (Indian time): one more
    _hit(link, None, ip="203.0.113.1", at=NOON + timedelta(days=1))
    # another address, and the same address with another browser: one more each
    _hit(link, None, ip="203.0.113.2")
    _hit(link, None, ip="203.0.113.1", agent=IPHONE)
    # a preview bot: nothing
    _hit(link, None, ip="203.0.113.3", agent=WHATSAPP)

    assert selectors.click_counts(campaign_id=sms_campaign.pk) == selectors.ClickCounts(total=6, unique=4)


def test_days_are_counted_in_india_time(sms_campaign):
    # 23:00 and 01:00 IST are different days though both are 17:30 / 19:30 UTC on the same UTC day
    link = _link(sms_campaign)
    _hit(link, None, at=datetime(2026, 11, 20, 17, 30, tzinfo=UTC))
    _hit(link, None, at=datetime(2026, 11, 20, 19, 30, tzinfo=UTC))

    assert selectors.click_counts(campaign_id=sms_campaign.pk).unique == 2
    # an org on UTC has them on one day, once its counters are counted on its new clock
    sms_campaign.org.timezone = "UTC"
    sms_campaign.org.save(update_fields=["timezone"])
    click_counters_build(org_id=sms_campaign.org_id, everything=True)
    assert selectors.click_counts(campaign_id=sms_campaign.pk).unique == 1


def test_recipient_and_anonymous_hits_add_up(sms_campaign, recipients):
    link = _link(sms_campaign)
    _hit(link, recipients[0])
    _hit(link, recipients[0])
    _hit(link, None, ip="198.51.100.1")
    assert selectors.click_counts(campaign_id=sms_campaign.pk) == selectors.ClickCounts(total=3, unique=2)


def test_other_campaigns_clicks_are_not_counted(sms_campaign, recipients, template):
    other = CampaignFactory(org=template.org, name="Other", template=template)
    _hit(_link(other), None)
    assert selectors.click_counts(campaign_id=sms_campaign.pk) == selectors.ClickCounts(total=0, unique=0)


def test_counts_by_link(sms_campaign, recipients):
    sale, track = _link(sms_campaign), _link(sms_campaign, "https://shop.acme.test/track")
    unclicked = _link(sms_campaign, "https://shop.acme.test/help")
    for message in recipients[:3]:
        _hit(sale, message)
        _hit(sale, message)
    _hit(track, recipients[0])
    _hit(track, recipients[0], agent=WHATSAPP)

    assert selectors.click_counts_by_link(campaign_id=sms_campaign.pk) == [
        selectors.LinkClickCounts(sale.pk, "https://shop.acme.test/sale", total=6, unique=3),
        selectors.LinkClickCounts(track.pk, "https://shop.acme.test/track", total=1, unique=1),
        selectors.LinkClickCounts(unclicked.pk, "https://shop.acme.test/help", total=0, unique=0),
    ]


def test_counts_by_day(sms_campaign, recipients):
    link = _link(sms_campaign)
    _hit(link, recipients[0])
    _hit(link, recipients[1])
    _hit(link, recipients[0], at=NOON + timedelta(days=2))
    _hit(link, recipients[0], at=NOON + timedelta(days=2))
    _hit(link, recipients[2], at=NOON + timedelta(days=2), agent=WHATSAPP)

    days = selectors.click_counts_by_day(campaign_id=sms_campaign.pk)

    assert [(d.day.isoformat(), d.total, d.unique) for d in days] == [("2026-11-20", 2, 2), ("2026-11-22", 2, 1)]


def test_counts_by_channel_and_campaign_for_an_org(sms_campaign, recipients, org, sender, other_org):
    # given an SMS campaign and an email campaign of the org, and a click of another org
    email_template = Template.objects.create(org=org, name="Mail", channel="email", body="Hi {#var#}")
    email_campaign = CampaignFactory(org=org, name="Mail", template=email_template)
    _hit(_link(sms_campaign), recipients[0])
    _hit(_link(sms_campaign), recipients[0])
    _hit(_link(email_campaign), None)
    _hit(_link(email_campaign), None, agent=WHATSAPP)
    foreign_template = Template.objects.create(org=other_org, name="T", body="{#var#}")
    _hit(_link(CampaignFactory(org=other_org, name="Theirs", template=foreign_template)), None)

    assert selectors.click_counts_by_channel(org_id=org.pk) == {
        "email": selectors.ClickCounts(total=1, unique=1),
        "sms": selectors.ClickCounts(total=2, unique=1),
    }
    assert selectors.click_counts_by_campaign(org_id=org.pk) == {
        sms_campaign.pk: selectors.ClickCounts(total=2, unique=1),
        email_campaign.pk: selectors.ClickCounts(total=1, unique=1),
    }


def test_period_limits_the_counts(sms_campaign, recipients, org):
    link = _link(sms_campaign)
    _hit(link, recipients[0], at=NOON - timedelta(days=10))
    _hit(link, recipients[1])

    counts = selectors.click_counts_by_channel(org_id=org.pk, first_day=date(2026, 11, 19), last_day=date(2026, 11, 20))
    assert counts == {"sms": selectors.ClickCounts(total=1, unique=1)}


def test_each_report_is_two_queries_of_the_counters(sms_campaign, recipients, org, django_assert_num_queries):
    link = _link(sms_campaign)
    for message in recipients:
        _hit(link, message)
        _hit(link, None, ip=f"198.51.100.{message.pk % 250}")

    for report in (
        lambda: selectors.click_counts(campaign_id=sms_campaign.pk),
        lambda: selectors.click_counts_by_day(campaign_id=sms_campaign.pk),
        lambda: selectors.click_counts_by_channel(org_id=org.pk),
        lambda: selectors.click_counts_by_campaign(org_id=org.pk),
        lambda: selectors.click_counts_by_day_and_channel(org_id=org.pk, channels=["sms", "email"]),
    ):
        with django_assert_num_queries(2):  # totals, clickers
            report()
    with django_assert_num_queries(3):  # totals and clickers per link, the campaign's links
        selectors.click_counts_by_link(campaign_id=sms_campaign.pk)


def test_counts_by_day_and_channel_add_the_channels_up_per_day(sms_campaign, recipients, org):
    # given on one day: an SMS recipient twice, and one visitor without recipient on an SMS and an email link
    email_template = Template.objects.create(org=org, name="Mail", channel="email", body="Hi {#var#}")
    email_link = _link(CampaignFactory(org=org, name="Mail", template=email_template))
    sms_link = _link(sms_campaign)
    _hit(sms_link, recipients[0])
    _hit(sms_link, recipients[0])
    _hit(sms_link, None, ip="198.51.100.9")
    _hit(email_link, None, ip="198.51.100.9")
    # and two days later an email click only
    _hit(email_link, None, at=NOON + timedelta(days=2))

    days = selectors.click_counts_by_day_and_channel(org_id=org.pk, channels=["sms", "email"])

    # then each channel counts the visitor once, and the day's figures add the channels up
    assert [(d.day.isoformat(), d.per_channel, d.unique, d.total) for d in days] == [
        ("2026-11-20", (selectors.ClickCounts(total=3, unique=2), selectors.ClickCounts(total=1, unique=1)), 3, 4),
        ("2026-11-22", (selectors.ClickCounts(total=0, unique=0), selectors.ClickCounts(total=1, unique=1)), 1, 1),
    ]
    assert [d.per_channel for d in selectors.click_counts_by_day_and_channel(org_id=org.pk, channels=["email"])] == [
        (selectors.ClickCounts(total=1, unique=1),),
        (selectors.ClickCounts(total=1, unique=1),),
    ]
