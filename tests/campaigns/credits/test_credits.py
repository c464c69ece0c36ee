"""The Credits page: the balance, what real dispatches and a test from the preview spent (per day, by campaign),
the top-ups, the campaigns coming up with their estimate and the warning when they need more than the balance."""

import html
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.base import clock
from campaigns.credits import statement as credits
from campaigns.lifecycle.approval import campaign_approval_request
from campaigns.models import Campaign, Org, Template
from campaigns.sending.preview import campaign_preview
from campaigns.sending.supervisor import campaigns_supervise
from campaigns.sending.test_sends import proof_send
from campaigns.support.org_settings import org_credits_add
from delivery.models import Message, Proof
from tests.factories import (
    CampaignFactory,
    CustomerListFactory,
    TemplateFactory,
    UserFactory,
    create_campaign,
    make_customers,
)
from tests.helpers import IST, launch

# Over 160 GSM-7 characters: every message of it is 2 segments, so 2 credits.
LONG_BODY = (
    "Hi {#var#}, our winter sale starts this Friday with up to fifty percent off jackets, shoes and bags in every "
    "store and online. Offer valid while stocks last, see the store for details - Acme"
)
NAME_SLOT = [{"source": "field", "value": "name"}]
MY_NUMBER = "+919810000001"


def page(user, org: Org | None = None):
    client = Client()
    client.force_login(user)
    url = reverse("campaigns:credits") + (f"?org={org.pk}" if org else "")
    return client.get(url)


def sent(campaign: Campaign, manager, capture) -> Campaign:
    """Launched now, sent through the simulated gateway, and settled by a supervisor pass."""
    launch(campaign, manager, capture)
    with capture(execute=True):
        campaigns_supervise()
    return Campaign.objects.get(pk=campaign.pk)


def gateway_took(campaign: Campaign) -> int:
    """The segments of a campaign's messages the gateway took: what it cost."""
    taken = Message.objects.filter(campaign=campaign).exclude(gateway_message_id="")
    return sum(taken.values_list("segments", flat=True))


@pytest.fixture
def long_template(org, sender) -> Template:
    return TemplateFactory(
        org=org, name="Winter sale", sender=sender, dlt_template_id="1707160000000000009", body=LONG_BODY
    )


def test_the_page_shows_the_balance_and_what_real_dispatches_and_a_test_spent(
    org, manager, template, long_template, customers, django_capture_on_commit_callbacks
):
    # given a campaign to the 10 customers, one of 2-segment messages to a list of 3, and a test from a preview
    capture = django_capture_on_commit_callbacks
    shipped = sent(create_campaign(template, manager, name="Shipped"), manager, capture)
    three = CustomerListFactory(org=org, name="Three")
    three.customers.set(customers[:3])
    sale = sent(
        create_campaign(long_template, manager, name="Winter sale", slot_values=NAME_SLOT, audience_list=three),
        manager,
        capture,
    )
    proof = proof_send(campaign=create_campaign(template, manager, name="Draft"), user=manager, recipients=[MY_NUMBER])
    assert shipped.credits_settled_at and sale.credits_settled_at
    spent_on = {"shipped": gateway_took(shipped), "sale": gateway_took(sale), "tests": Proof.objects.get().credits}
    assert spent_on["sale"] == 6 and spent_on["tests"] == 1 and spent_on["shipped"] > 0

    # when the manager opens the Credits page
    response = page(manager)

    # then the balance is the org's, and what was spent adds up with it, today, by campaign and with the tests apart
    assert response.status_code == 200
    balance = Org.objects.get(pk=org.pk).credits
    assert balance == 10_000 - sum(spent_on.values())
    usage = response.context["usage"]
    assert (usage.total, usage.tests, usage.reserved) == (sum(spent_on.values()), 1, 0)
    assert usage.days[-1].campaigns == spent_on["shipped"] + 6 and usage.days[-1].tests == 1
    assert [(c.name, c.credits) for c in usage.campaigns] == [("Shipped", spent_on["shipped"]), ("Winter sale", 6)]
    text = html.unescape(response.content.decode())
    assert f'data-figure="balance">{balance}<' in text
    assert f'href="/campaigns/{shipped.pk}/"' in text and f'href="/campaigns/{sale.pk}/"' in text
    assert 'Tests sent from the preview</td><td class="number" data-figure="credits">1<' in text
    assert "An email takes 1 credit" in text
    assert proof.campaign.name not in text  # a test is one line of its own, never its draft's


def test_a_day_is_the_orgs_calendar_day_and_the_period_is_thirty_days(
    org, manager, template, customers, clock, django_capture_on_commit_callbacks
):
    # given an org in London, a campaign that started there at 20:00 on 23 November (already the 24th in Kolkata,
    # the deployment's time zone), and one 31 days before
    Org.objects.filter(pk=org.pk).update(timezone="Europe/London")
    org.refresh_from_db()
    capture = django_capture_on_commit_callbacks
    clock.set(2026, 10, 23, 12, 0)
    old = sent(create_campaign(template, manager, name="October"), manager, capture)
    clock.set(2026, 11, 24, 1, 30)
    evening = sent(create_campaign(template, manager, name="Evening"), manager, capture)

    # when the usage is read later that evening in London
    usage = credits.credit_usage(org=org, moment=datetime(2026, 11, 23, 22, 0, tzinfo=ZoneInfo("Europe/London")))

    # then the campaign counts on London's 23 November, the one of October not at all
    by_day = {day.day.isoformat(): day.total for day in usage.days if day.total}
    assert by_day == {"2026-11-23": evening.credits_charged}
    assert (usage.days[0].day.isoformat(), usage.days[-1].day.isoformat(), len(usage.days)) == (
        "2026-10-25",
        "2026-11-23",
        30,
    )
    assert [c.name for c in usage.campaigns] == ["Evening"] and old.credits_charged > 0


def test_usage_takes_five_queries_however_many_campaigns_runs_and_tests(
    org, manager, template, support, django_assert_num_queries, django_assert_max_num_queries
):
    # given one campaign that spent credits today: the page's queries
    now = clock.now()
    spent = {"launched_at": now, "credits_settled_at": now, "status": "dispatched"}
    Campaign.objects.create(org=org, name="C0", template=template, credits_charged=1, **spent)
    with django_assert_max_num_queries(100) as few:
        assert page(manager).status_code == 200

    # when 11 more campaigns, a recurring campaign's 3 runs (still sending), 4 tests and 5 top-ups are added
    for n in range(1, 12):
        Campaign.objects.create(org=org, name=f"C{n}", template=template, credits_charged=n + 1, **spent)
    weekly = CampaignFactory(org=org, name="Weekly", template=template, schedule="0 10 * * 1", status="active")
    for n in range(3):
        CampaignFactory(
            org=org, name=f"Weekly run {n}", template=template, parent=weekly, launched_at=now, credits_charged=100
        )
    for _ in range(4):
        Proof.objects.create(campaign=weekly, recipients=1, credits=2)
    for n in range(5):
        org_credits_add(org=org, amount=n + 1, user=support, note=f"Invoice {n}")

    # then five queries give every figure of the usage, and the page's queries did not grow
    with django_assert_num_queries(5):
        usage = credits.credit_usage(org=org)
    assert usage.campaigns[0] == credits.CampaignUsage(weekly.pk, "Weekly", True, 3, 300, True)
    assert len(usage.campaigns) == credits.TOP_CAMPAIGNS
    assert (usage.other_campaigns, usage.other_campaigns_credits) == (3, 1 + 2 + 3)
    assert (usage.tests, usage.total, usage.reserved) == (8, 300 + 78 + 8, 300)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert page(manager).status_code == 200


def test_top_ups_show_when_how_many_balance_and_note_but_who_only_to_support(org, manager, support):
    # given a top-up by support with a note
    org_credits_add(org=org, amount=2500, user=support, note="Invoice 42")

    # when the manager and support open the page
    for_manager = page(manager).content.decode()
    for_support = page(support, org).content.decode()

    # then both read how many, the balance after and the note; only support reads who
    for text in (for_manager, for_support):
        assert "+2500" in text and "12500" in text and "Invoice 42" in text
    assert support.email not in for_manager and "By (support only)" not in for_manager
    assert support.email in for_support


def test_another_orgs_page_is_404_and_a_manager_never_reads_its_balance(org, other_org, manager, outsider, support):
    Org.objects.filter(pk=other_org.pk).update(credits=987_654)

    assert page(manager, other_org).status_code == 404
    own = page(manager)
    assert (
        own.context["org"] == org and "987654" not in own.content.decode() and "Other Brand" not in own.content.decode()
    )
    assert "987654" in page(outsider).content.decode()
    # support staff choose the org with the shared chooser
    chosen = page(support, other_org)
    assert chosen.context["org"] == other_org and 'id="credits-org"' in chosen.content.decode()


def test_campaigns_coming_up_are_estimated_and_a_shortfall_says_how_many_and_before_when(
    org, manager, template, customers, clock, django_capture_on_commit_callbacks
):
    # given, on Monday 23 November at noon, a campaign to 10 customers scheduled for Tuesday 09:00 and a recurring
    # one to them every day at 10:00, and 50 credits
    capture = django_capture_on_commit_callbacks
    once = create_campaign(template, manager, name="Tuesday offer")
    launch(once, manager, capture, scheduled_at=datetime(2026, 11, 24, 9, 0, tzinfo=IST))
    daily = create_campaign(template, manager, name="Daily deal", kind="recurring", schedule="0 10 * * *")
    launch(daily, manager, capture)
    Org.objects.filter(pk=org.pk).update(credits=50)
    preview_credits = campaign_preview(campaign=once).credits_after
    assert preview_credits == 10  # one segment each

    # when the manager opens the Credits page
    response = page(manager)

    # then the scheduled campaign counts once and the recurring one for its 7 runs, each as its preview estimates
    outlook = response.context["outlook"]
    assert [(i.campaign.name, len(i.sends), i.credits_each) for i in outlook.upcoming] == [
        ("Tuesday offer", 1, 10),
        ("Daily deal", 7, 10),
    ]
    # and the warning names the need, the balance and the run the credits no longer cover (Saturday's, the sixth)
    said = html.unescape(response.content.decode())
    assert (
        "Campaigns scheduled for the next 7 days need about 80 credits; Acme Retail has 50. "
        "Ask support to add credits before Saturday 10:00." in said
    )
    # when support adds enough, then no warning
    Org.objects.filter(pk=org.pk).update(credits=80)
    assert 'id="credits-shortfall"' not in page(manager).content.decode()


def test_a_large_customer_dependent_audience_is_estimated_from_a_sample_and_kept_for_a_while(
    org, manager, long_template, monkeypatch, django_assert_num_queries
):
    # given a 2-segment campaign whose slot reads the customer's name, to 12 customers, over a limit of 5
    make_customers(org, 12)
    monkeypatch.setattr(credits, "FULL_ESTIMATE_LIMIT", 5)
    monkeypatch.setattr(credits, "ESTIMATE_SAMPLE", 4)
    campaign = Campaign.objects.select_related("org", "template").get(
        pk=create_campaign(long_template, manager, slot_values=NAME_SLOT).pk
    )

    # when it is estimated, then from its first 4 recipients, scaled to the 12
    estimate = credits.campaign_credit_estimate(campaign=campaign)
    assert (estimate.credits, estimate.recipients, estimate.sampled_from) == (24, 12, 4)
    # and asked again, it is not worked out again
    with django_assert_num_queries(0):
        assert credits.campaign_credit_estimate(campaign=campaign) == estimate


def test_campaigns_waiting_for_approval_count_as_launched_the_way_they_ask(
    org, manager, template, customers, clock, django_capture_on_commit_callbacks
):
    # given, on Monday 23 November at noon, three campaigns to the 10 customers waiting for approval: one asked for
    # Wednesday 09:00, one to send now, one every day at 10:00; and one asked for next month
    def ask(name: str, scheduled_at=None, **fields) -> Campaign:
        campaign = create_campaign(template, manager, name=name, **fields)
        return campaign_approval_request(campaign=campaign, user=manager, scheduled_at=scheduled_at)

    wednesday = ask("Wednesday offer", datetime(2026, 11, 25, 9, 0, tzinfo=IST))
    now = ask("Flash sale")
    daily = ask("Daily deal", kind="recurring", schedule="0 10 * * *")
    ask("December", datetime(2026, 12, 20, 9, 0, tzinfo=IST))
    assert {c.status for c in (wednesday, now, daily)} == {Campaign.Status.AWAITING_APPROVAL}

    # when the manager opens the Credits page
    response = page(manager)

    # then each counts as approved now, in the order it would send, and next month's is not in these 7 days
    outlook = response.context["outlook"]
    assert [(i.campaign.name, i.sends[0], len(i.sends), i.credits_each) for i in outlook.upcoming] == [
        ("Flash sale", clock.moment, 1, 10),
        ("Daily deal", datetime(2026, 11, 24, 10, 0, tzinfo=IST), 7, 10),
        ("Wednesday offer", datetime(2026, 11, 25, 9, 0, tzinfo=IST), 1, 10),
    ]
    text = html.unescape(response.content.decode())
    assert 'Flash sale</a> <span class="helptext">(waiting for approval: sends when approved)</span>' in text
    assert 'Wednesday offer</a> <span class="helptext">(waiting for approval)</span>' in text


def test_nothing_coming_up_says_so(org, manager):
    text = page(manager).content.decode()
    assert 'id="credits-nothing-coming-up"' in text and 'id="credits-shortfall"' not in text


def test_the_header_links_to_the_credits_page(client, manager):
    client.force_login(manager)
    assert f'href="{reverse("campaigns:credits")}"' in client.get(reverse("campaigns:list")).content.decode()


def test_when_in_words_reads_the_orgs_clock(org):
    now = datetime(2026, 11, 23, 12, 0, tzinfo=IST)  # a Monday
    words = [credits.when_in_words(now + timedelta(days=d, hours=-2), org=org, now=now) for d in (0, 1, 4, 7)]
    assert words == ["today 10:00", "tomorrow 10:00", "Friday 10:00", "Monday 30 Nov 10:00"]


@pytest.mark.parametrize("page_name", ["credits", "team", "template-import", "sending-rules"])
def test_a_user_of_no_org_is_told_how_to_join_one(client, db, page_name):
    client.force_login(UserFactory(email="new@acme.test", password="a-long-password-1"))
    response = client.get(reverse(f"campaigns:{page_name}"))
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "You are not a member of any organisation yet. Ask a colleague who is to invite you, or ask support." in text
