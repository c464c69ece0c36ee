"""Campaigns side by side: outcomes, reasons, clicks, timing and devices per campaign, the best value of a row
marked in words, a recurring campaign as the sum of its runs, in the same queries for 2 campaigns as for 6."""

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Template
from delivery.models import Message
from insights.compare.comparison import campaigns_compare
from linktrack.counts.campaign_clicks import click_timeline
from linktrack.models import ShortLink
from linktrack.redirect import short_links
from tests.factories import (
    CampaignFactory,
    CustomerListFactory,
    MembershipFactory,
    make_customers,
    make_messages,
    store_click,
)

IST = ZoneInfo("Asia/Kolkata")
SENT = datetime(2026, 11, 20, 10, 5, tzinfo=IST)
WEEK_1 = datetime(2026, 11, 16, 10, 0, tzinfo=IST)
WEEK_2 = datetime(2026, 11, 23, 10, 0, tzinfo=IST)
ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
PREVIEW_BOT = "WhatsApp/2.23.20.0 A"
D, ND, NS, UNK, WAIT = "delivered", "not_delivered", "not_sent", "unknown", "sent"


def _messages(campaign: Campaign, customers, outcomes: list[tuple[str, str]], sent_at: datetime) -> list[Message]:
    """One message per (status, reason code), to the customers in order."""
    return Message.objects.bulk_create(
        Message(
            campaign=campaign,
            customer=customer,
            channel=campaign.template.channel,
            recipient=customer.mobile,
            status=status,
            reason_code=reason,
            sent_at=None if status == NS else sent_at,
        )
        for customer, (status, reason) in zip(customers, outcomes, strict=True)
    )


def _link(campaign: Campaign) -> ShortLink:
    destination = "https://acme.test/sale"
    return ShortLink.objects.get(
        pk=short_links.short_links_for(campaign=campaign, destinations=[destination])[destination]
    )


def _click(link: ShortLink, message: Message | None, at: datetime, agent: str = ANDROID) -> None:
    store_click(
        event_id=uuid.uuid4().hex,
        short_link=link,
        campaign=link.campaign,
        message=message,
        channel=link.campaign.template.channel,
        clicked_at=at,
        user_agent=agent,
        is_bot=agent == PREVIEW_BOT,
    )


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(
        org=org, name="Weekend newsletter", channel="email", subject="News for {#var#}", body="Hello {#var#}: {#var#}"
    )


@pytest.fixture
def three(org, template, email_template) -> tuple[Campaign, Campaign, Campaign]:
    """A: SMS to a list, 10 messages (6 delivered, 1 not sent, 2 undeliverable, 1 waiting), 3 clicks by 2 people.
    B: email to everyone, 4 delivered, 1 click. C: recurring SMS, two runs a week apart, 5 messages, 3 clicks."""
    customers = make_customers(org, 10)
    vip = CustomerListFactory(org=org, name="VIP")
    a = CampaignFactory(
        org=org, name="Diwali", template=template, launched_at=SENT, audience_list=vip, audience_description="list VIP"
    )
    b = CampaignFactory(org=org, name="Weekend mail", template=email_template, launched_at=SENT)
    c = CampaignFactory(org=org, name="Weekly", template=template, kind=Campaign.Kind.RECURRING, schedule="0 10 * * 1")
    runs = [
        CampaignFactory(org=org, name=f"Weekly run {n}", template=template, parent=c, launched_at=at)
        for n, at in ((1, WEEK_1), (2, WEEK_2))
    ]
    outcomes = [(D, "")] * 6 + [(NS, "unsubscribed"), (ND, "undeliverable"), (ND, "undeliverable"), (WAIT, "")]
    a_sent = _messages(a, customers, outcomes, SENT)
    a_link = _link(a)
    _click(a_link, a_sent[0], SENT + timedelta(minutes=15))
    _click(a_link, a_sent[0], SENT + timedelta(minutes=65), agent=IPHONE)
    _click(a_link, a_sent[1], SENT + timedelta(minutes=125), agent=DESKTOP)
    _click(a_link, a_sent[2], SENT + timedelta(minutes=1), agent=PREVIEW_BOT)  # never counted
    b_sent = _messages(b, customers[:4], [(D, "")] * 4, SENT)
    _click(_link(b), b_sent[0], SENT + timedelta(minutes=40))
    first = _messages(runs[0], customers[:3], [(D, ""), (D, ""), (UNK, "operator_no_report")], WEEK_1)
    second = _messages(runs[1], customers[:2], [(D, ""), (ND, "expired")], WEEK_2)
    _click(_link(runs[0]), first[0], WEEK_1 + timedelta(minutes=30), agent=IPHONE)
    second_link = _link(runs[1])
    _click(second_link, second[0], WEEK_2 + timedelta(minutes=10))
    _click(second_link, second[0], WEEK_2 + timedelta(minutes=190), agent=DESKTOP)
    return a, b, c


def _compare(client, *ids) -> str:
    response = client.get(reverse("insights:compare"), {"c": [str(pk) for pk in ids]})
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, figure: str) -> list[str]:
    start = page.index(f'<tr data-figure="{figure}">')
    return re.findall(r"<td>(.*?)</td>", page[start : page.index("</tr>", start)])


def test_each_campaign_shows_what_went_out_and_what_came_back(three):
    a, b, c = (Campaign.objects.select_related("org", "template").get(pk=x.pk) for x in three)

    diwali, mail, weekly = campaigns_compare(campaigns=[a, b, c])

    assert (diwali.name, diwali.channel, diwali.kind, diwali.audience, diwali.template_name) == (
        "Diwali",
        "SMS",
        "One-time",
        "list VIP",
        "Order shipped",
    )
    assert (mail.channel, mail.audience, mail.template_name) == ("Email", "every customer", "Weekend newsletter")
    outcomes = [
        (x.messages, x.delivered_percent, x.not_sent_percent, x.not_delivered_percent, x.unknown_percent)
        for x in (diwali, mail, weekly)
    ]
    assert outcomes == [(10, 60.0, 10.0, 30.0, 0.0), (4, 100.0, 0.0, 0.0, 0.0), (5, 60.0, 0.0, 20.0, 20.0)]
    top = diwali.top_not_delivered
    assert (top.title, top.count, top.percent) == ("Gateway confirmed it cannot be delivered", 2, 66.7)
    assert mail.top_not_delivered is None
    assert (weekly.top_not_delivered.title, weekly.top_not_delivered.percent) == ("Expired before delivery", 100.0)
    clicks = [(x.clicks.unique, x.clicks.total, x.click_rate) for x in (diwali, mail, weekly)]
    assert clicks == [(2, 3, 33.3), (1, 1, 25.0), (2, 3, 66.7)]
    timing = [(x.first_click_minutes, x.half_within_hours, x.phone_percent) for x in (diwali, mail, weekly)]
    assert timing == [(15, 2, 66.7), (40, 1, 100.0), (10, 1, 66.7)]
    # a one-time campaign's timing reads as on its own page
    on_its_page = click_timeline(campaign=a)
    assert (on_its_page.first_click_minutes, on_its_page.half_within_hours) == (15, 2)


def test_a_recurring_campaign_adds_up_its_runs_and_times_each_run_from_its_own_sending(client, manager, three):
    # given the recurring campaign's second run got the soonest click, 10 minutes after it went out (a week after
    # the first run went out)
    a, _, weekly = three
    client.force_login(manager)

    page = _compare(client, weekly.pk, a.pk)

    # then its figures add up both runs, and the first click counts from the second run's sending
    assert _row(page, "kind")[0] == "Recurring (2 runs added up)"
    assert _row(page, "messages") == ["5", "10"]
    assert _row(page, "first_click_minutes")[0].startswith("<strong>10 minutes after sending</strong>")
    assert _row(page, "half_within_hours") == ["within 1 hour of sending", "within 2 hours of sending"]


def test_the_page_marks_the_best_value_of_a_row_in_words(client, manager, three):
    a, b, c = three
    client.force_login(manager)

    page = _compare(client, a.pk, b.pk, c.pk)

    best = "</strong> <span data-best>(best)</span>"
    assert _row(page, "delivered_percent") == ["60.0% (6)", f"<strong>100.0% (4){best}", "60.0% (3)"]
    assert _row(page, "not_delivered_percent") == ["30.0% (3)", f"<strong>0.0% (0){best}", "20.0% (1)"]
    assert _row(page, "click_rate") == ["33.3%", "25.0%", f"<strong>66.7%{best}"]
    assert _row(page, "first_click_minutes")[2] == f"<strong>10 minutes after sending{best}"
    # rows where no value is better than another are never marked
    for figure in ("messages", "unknown_percent", "unique_clicks", "phone_percent", "audience"):
        assert "(best)" not in "".join(_row(page, figure)), figure
    assert _row(page, "top_not_delivered") == [
        "Gateway confirmed it cannot be delivered: 66.7% of not delivered (2)",
        "none",
        "Expired before delivery: 100.0% of not delivered (1)",
    ]
    assert _row(page, "launched_at")[:2] == ["20 Nov 2026, 10:05", "20 Nov 2026, 10:05"]
    assert _row(page, "phone_percent") == ["66.7%", "100.0%", "66.7%"]


def test_equal_values_are_not_marked_best(client, manager, org, template):
    customers = make_customers(org, 2)
    first, second = (CampaignFactory(org=org, name=f"Same {n}", template=template) for n in (1, 2))
    for campaign in (first, second):
        _messages(campaign, customers, [(D, ""), (D, "")], SENT)
    client.force_login(manager)

    page = _compare(client, first.pk, second.pk)

    assert "data-best" not in page
    assert _row(page, "click_rate") == ["0.0%", "0.0%"] and _row(page, "first_click_minutes") == ["no clicks"] * 2


def test_the_same_queries_for_two_campaigns_as_for_six(
    client, manager, org, template, django_assert_max_num_queries, django_assert_num_queries
):
    customers = make_customers(org, 3)
    campaigns = []
    for n in range(6):
        campaign = CampaignFactory(org=org, name=f"Sale {n}", template=template, launched_at=SENT)
        sent = _messages(campaign, customers, [(D, ""), (ND, "expired"), (UNK, "")], SENT)
        _click(_link(campaign), sent[0], SENT + timedelta(minutes=n + 1))
        campaigns.append(campaign)
    client.force_login(manager)
    url = reverse("insights:compare")

    with django_assert_max_num_queries(100) as two:
        client.get(url, {"c": [c.pk for c in campaigns[:2]]})
    with django_assert_num_queries(len(two.captured_queries)):
        page = client.get(url, {"c": [c.pk for c in campaigns]}).content.decode()

    assert _row(page, "first_click_minutes")[5] == "6 minutes after sending"
    assert _row(page, "unique_clicks") == ["1"] * 6


def test_another_orgs_campaign_is_a_404(client, manager, three, other_org):
    other_template = Template.objects.create(org=other_org, name="Theirs", body="Hi {#var#}")
    theirs = CampaignFactory(org=other_org, name="Their sale", template=other_template)
    client.force_login(manager)

    response = client.get(reverse("insights:compare"), {"c": [three[0].pk, theirs.pk]})

    assert response.status_code == 404


def test_a_member_of_two_orgs_compares_campaigns_of_both(client, manager, three, other_org):
    MembershipFactory(user=manager, org=other_org)
    other_template = Template.objects.create(org=other_org, name="Theirs", body="Hi {#var#}")
    theirs = CampaignFactory(org=other_org, name="Their sale", template=other_template)
    client.force_login(manager)

    page = _compare(client, three[0].pk, theirs.pk)

    assert "Their sale" in page and "(Other Brand)" in page


@pytest.mark.parametrize("count", [0, 1, 7])
def test_fewer_than_two_or_more_than_six_campaigns_is_explained_with_a_link_back(client, manager, org, template, count):
    campaigns = [CampaignFactory(org=org, name=f"C{n}", template=template) for n in range(count)]
    client.force_login(manager)

    page = _compare(client, *[c.pk for c in campaigns])

    expected = "Tick at least 2 campaigns" if count < 2 else "Up to 6 campaigns can be compared at once (you chose 7)"
    assert expected in page and 'id="comparison"' not in page
    assert f'<a href="{reverse("campaigns:list")}">Back to the campaign list</a>' in page


def test_the_same_campaign_twice_counts_once(client, manager, three):
    client.force_login(manager)

    page = _compare(client, three[0].pk, three[0].pk)

    assert "Tick at least 2 campaigns to compare them (you chose 1)." in page


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", "１２"])
def test_an_id_that_is_not_a_number_is_explained_not_an_error(client, manager, three, value):
    client.force_login(manager)

    page = _compare(client, three[0].pk, value)

    assert "is not a campaign" in page


def test_a_run_beside_its_own_recurring_campaign_is_refused_in_words(client, manager, three):
    weekly = three[2]
    run = weekly.runs.order_by("pk").first()
    client.force_login(manager)

    page = _compare(client, weekly.pk, run.pk)

    assert "“Weekly run 1” is a run of the recurring campaign “Weekly”" in page and 'id="comparison"' not in page


def test_anonymous_visitors_are_sent_to_sign_in(client, three):
    response = client.get(reverse("insights:compare"), {"c": [three[0].pk, three[1].pk]})

    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_campaign_list_has_a_checkbox_per_campaign_and_a_compare_button(client, manager, three):
    a, b, c = three
    client.force_login(manager)

    page = client.get(reverse("campaigns:list")).content.decode()

    form = page[page.index('<form method="get" action="' + reverse("insights:compare")) :]
    form = form[: form.index("</form>")]
    for campaign in (a, b, c):
        assert f'<input type="checkbox" name="c" value="{campaign.pk}"' in form
    assert "Weekly run 1" not in page  # runs are compared through their recurring campaign
    assert '<button class="btn" type="submit">Compare selected</button>' in form


def test_an_id_beyond_any_campaign_is_a_404_not_an_error(client, manager, three):
    client.force_login(manager)

    response = client.get(reverse("insights:compare"), {"c": [three[0].pk, "99999999999999999999999"]})

    assert response.status_code == 404


def test_a_campaign_whose_messages_all_got_their_receipts_compares_without_a_reason_not_delivered(
    client, manager, org, template
):
    # given two campaigns whose messages were sent, waited for their receipts and were then all delivered (the
    # counters of messages waiting are left at 0, with when the first was sent)
    customers = make_customers(org, 3)
    campaigns = [CampaignFactory(template=template, name=name, status="dispatched") for name in ("Diwali", "Holi")]
    for campaign in campaigns:
        make_messages(
            campaign, customers, channel="sms", status="sent", sent_at=datetime(2026, 11, 20, 10, 0, tzinfo=IST)
        )
    Message.objects.filter(campaign__in=campaigns).update(status="delivered")
    client.force_login(manager)

    # when they are compared, then the page shows them, every message delivered and no reason not delivered
    page = _compare(client, *(campaign.pk for campaign in campaigns))
    assert "Diwali" in page and "Holi" in page
    assert all(row.top_not_delivered is None for row in campaigns_compare(campaigns=campaigns))
