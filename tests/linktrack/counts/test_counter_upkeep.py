"""The click counters' upkeep: merging change rows, building counters for clicks stored before them, and
verify_click_counters, which finds (and repairs) every figure that differs from the stored clicks."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.customers.erasure import customer_erase
from linktrack import services
from linktrack.counts.click_counts import ClickCounts, click_counts, click_counts_by_link
from linktrack.models import Click, ClickerDay, DailyClicks, UniqueClickers
from tests.factories import CampaignFactory, make_customers, make_messages
from tests.linktrack.helpers import SENT, add_click, link_for


@pytest.fixture
def clicked(org, template):
    """A campaign whose three recipients clicked, each on two days, one of them twice a day."""
    campaign = CampaignFactory(org=org, template=template, name="Diwali", status="dispatched")
    link = link_for(campaign)
    messages = make_messages(campaign, make_customers(org, 3), status="delivered")
    for day in range(2):
        for message in messages:
            add_click(link, message, SENT + timedelta(days=day))
        add_click(link, messages[0], SENT + timedelta(days=day, hours=1))
    return campaign


def test_merging_keeps_every_figure_and_leaves_one_row_per_key(clicked):
    before = (click_counts(campaign_id=clicked.pk), click_counts_by_link(campaign_id=clicked.pk))
    rows = DailyClicks.objects.filter(campaign=clicked).count()

    removed = services.click_counters_merge()

    assert removed > 0 and DailyClicks.objects.filter(campaign=clicked).count() == 2 < rows  # one per day
    assert (click_counts(campaign_id=clicked.pk), click_counts_by_link(campaign_id=clicked.pk)) == before
    assert before[0] == ClickCounts(total=8, unique=3)
    assert services.click_counters_merge() == 0  # nothing new since


def test_clicks_stored_before_the_counters_are_counted_by_build_and_only_once(clicked, capsys):
    # given clicks stored without their counters (as before the counters existed)
    for model in (DailyClicks, UniqueClickers, ClickerDay):
        model.objects.filter(campaign=clicked).delete()
    assert click_counts(campaign_id=clicked.pk) == ClickCounts(total=0, unique=0)

    call_command("build_click_counters")
    assert click_counts(campaign_id=clicked.pk) == ClickCounts(total=8, unique=3)
    assert f"campaign {clicked.pk}: counted (1 of 1)" in capsys.readouterr().out

    call_command("build_click_counters")  # counted campaigns are left alone: a second run does nothing
    assert "Counted the clicks of 0 campaign(s)." in capsys.readouterr().out
    assert click_counts(campaign_id=clicked.pk) == ClickCounts(total=8, unique=3)


def test_verify_reports_each_difference_in_words_and_repairs_it(clicked, org, capsys):
    call_command("verify_click_counters", "--org", str(org.pk))
    assert "agree" in capsys.readouterr().out

    # a click lost between the stream and the counters, and a day counted twice
    Click.objects.filter(campaign=clicked).order_by("pk").first().delete()
    row = DailyClicks.objects.filter(campaign=clicked).first()
    DailyClicks.objects.create(
        org_id=row.org_id, campaign=clicked, channel=row.channel, short_link_id=row.short_link_id, day=row.day, total=1
    )
    with pytest.raises(CommandError, match="difference"):
        call_command("verify_click_counters", "--org", org.name)
    report = capsys.readouterr().out
    assert f"campaign {clicked.pk}, clicks on link/day {row.short_link_id} / {row.day}" in report

    call_command("verify_click_counters", "--repair")
    assert "repaired" in capsys.readouterr().out
    call_command("verify_click_counters")
    assert "agree" in capsys.readouterr().out
    assert click_counts(campaign_id=clicked.pk).total == 7


def test_a_deleted_campaign_takes_its_counters_along(clicked):
    clicked.delete()
    for model in (DailyClicks, UniqueClickers, ClickerDay):
        assert not model.objects.exists()


def test_an_erased_customers_clicks_keep_counting(clicked):
    customer = clicked.messages.order_by("pk").first().customer
    customer_erase(customer=customer, user=None)
    assert click_counts(campaign_id=clicked.pk) == ClickCounts(total=8, unique=3)
    call_command("verify_click_counters")  # and the stored clicks, erased, still say the same


def test_the_campaign_page_reads_the_same_queries_with_one_click_or_many(
    client, manager, org, clicked, django_assert_num_queries
):
    client.force_login(manager)
    url = reverse("campaigns:detail", args=[clicked.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    # many more clicks, on many more days and hours, by more people and devices
    link = clicked.short_links.get()
    for day in range(20):
        for message in clicked.messages.all():
            add_click(link, message, SENT + timedelta(days=day, hours=day % 5))
        add_click(link, None, SENT + timedelta(days=day))
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
