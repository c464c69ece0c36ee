"""The click table's months: partitioned by month on PostgreSQL (migration 0007), partitions kept ahead, a month
found in the DEFAULT partition given its own, and CLICK_RETENTION_MONTHS dropping whole old months while every
report keeps its figures and the counters' check stays clean."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from insights.api import keys as api_keys
from linktrack import click_partitions as partitions
from linktrack.counts.campaign_clicks import click_devices, click_timeline
from linktrack.counts.click_counts import (
    click_counts,
    click_counts_by_campaign,
    click_counts_by_channel,
    click_counts_by_day,
    click_counts_by_link,
)
from linktrack.models import Click, ClickRetention, DailyClicks
from linktrack.redirect import clicks
from linktrack.services import click_counters_build, click_counters_verify
from tests.factories import CampaignFactory, make_messages
from tests.helpers import IST, admin_sign_in
from tests.linktrack.helpers import CHROME_ANDROID, IPHONE, add_click, link_for


def _partition_of_each(click_ids: list[int]) -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, tableoid::regclass::text FROM linktrack_click WHERE id = ANY(%s)", [click_ids])
        return dict(cursor.fetchall())


def _month_start(month) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def test_the_click_table_has_a_partition_for_this_month_the_next_two_and_a_default(postgres):
    this_month = partitions.month_of(timezone.now())
    months = [partition.month for partition in partitions.click_partitions()]
    assert months[-1] is None  # the DEFAULT partition, last
    assert {this_month, partitions.months_after(this_month, 1), partitions.months_after(this_month, 2)} <= set(months)


@pytest.mark.django_db(transaction=True)
def test_migrating_clicks_of_several_months_keeps_each_click_its_id_and_puts_it_in_its_months_partition(
    postgres, template, customers
):
    # given the click table as migration 0006 left it, with clicks in four months, one of them long ago
    campaign = CampaignFactory(template=template)
    link, message = link_for(campaign), make_messages(campaign, customers[:1])[0]
    executor = MigrationExecutor(connection)
    before = [("linktrack", "0006_click_counters")]
    executor.migrate(before)
    OldClick = executor.loader.project_state(before).apps.get_model("linktrack", "Click")
    times = [datetime(2025, 3, 31, 23, 59, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC), timezone.now()]
    times.append(datetime(2026, 10, 15, 12, tzinfo=IST))
    old = [
        OldClick.objects.create(
            event_id=f"e{n}",
            short_link_id=link.pk,
            campaign_id=campaign.pk,
            message_id=message.pk,
            channel="sms",
            clicked_at=at,
        )
        for n, at in enumerate(times)
    ]

    # when migrating to 0007
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    # then every click kept its id and time, each in its month's partition, one per month from the oldest to two
    # months ahead with no gap, and the DEFAULT partition empty
    assert {(c.pk, c.event_id, c.clicked_at) for c in Click.objects.all()} == {
        (c.pk, c.event_id, c.clicked_at) for c in old
    }
    assert _partition_of_each([c.pk for c in old]) == {
        c.pk: partitions.partition_name(partitions.month_of(c.clicked_at)) for c in old
    }
    months = [partition.month for partition in partitions.click_partitions() if partition.month]
    assert months[0].isoformat() == "2025-03-01"
    assert months[-1] == partitions.months_after(partitions.month_of(timezone.now()), 2)
    assert months == [partitions.months_after(months[0], n) for n in range(len(months))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'linktrack_click'")
        assert cursor.fetchone()[0] == "p"  # partitioned
    assert partitions._clicks_in_default() == 0

    # and a new click gets the next id; the same event stored again is passed over
    event = clicks.click_event(link.pk, message.pk, domain=None, ip="", user_agent=CHROME_ANDROID, method="GET")
    assert clicks.clicks_store(entries=[(event["id"], event)]) == 1
    assert clicks.clicks_store(entries=[(event["id"], event)]) == 0
    assert Click.objects.get(event_id=event["id"]).pk == max(c.pk for c in old) + 1


# Tests that change partitions after storing clicks commit as the job does: PostgreSQL refuses to alter a table
# with foreign key checks still waiting in the transaction (the test's own, otherwise).
@pytest.mark.django_db(transaction=True)
def test_partitions_are_made_ahead_once_and_a_month_found_in_the_default_gets_its_own(postgres, template, customers):
    # given clicks stored in months that have no partition yet (they go to the DEFAULT partition)
    campaign = CampaignFactory(template=template)
    link, message = link_for(campaign), make_messages(campaign, customers[:1])[0]
    later = partitions.months_after(partitions.month_of(timezone.now()), 7)
    add_click(link, message, _month_start(later) + timedelta(days=20))
    add_click(link, message, _month_start(partitions.months_after(later, 30)))
    waiting = list(Click.objects.order_by("pk"))
    assert set(_partition_of_each([c.pk for c in waiting]).values()) == {partitions.DEFAULT}

    # when beat's job runs as if in that month
    now = _month_start(later) + timedelta(days=3)
    kept = partitions.click_partitions_keep(now=now)

    # then that month and the two after it have partitions, each click moved to its month's, none left behind
    made = [partitions.partition_name(partitions.months_after(later, n)) for n in (0, 1, 2, 30)]
    assert kept.created == made
    assert set(made) <= {partition.name for partition in partitions.click_partitions()}
    assert kept.in_default == 0
    assert _partition_of_each([c.pk for c in waiting]) == {
        c.pk: partitions.partition_name(partitions.month_of(c.clicked_at)) for c in waiting
    }
    assert list(Click.objects.order_by("pk")) == waiting
    assert partitions.click_partitions_keep(now=now).created == []  # a second run changes nothing


def test_the_command_lists_the_months_and_refuses_a_month_it_cannot_read(postgres, capsys):
    call_command("click_partitions")
    out = capsys.readouterr().out
    this_month = partitions.month_of(timezone.now())
    assert partitions.partition_name(this_month) in out and f"{this_month:%Y-%m}" in out and "DEFAULT" in out
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("click_partitions", "--from", "2026-13")


def _figures(campaign, org) -> tuple:
    """What every report reads of a campaign and its org."""
    return (
        click_counts(campaign_id=campaign.pk),
        click_counts_by_link(campaign_id=campaign.pk),
        click_counts_by_day(campaign_id=campaign.pk),
        click_counts_by_channel(org_id=org.pk),
        click_counts_by_campaign(org_id=org.pk),
        click_timeline(campaign=campaign),
        click_devices(campaign_id=campaign.pk),
    )


@pytest.mark.django_db(transaction=True)
def test_retention_drops_whole_old_months_every_figure_stays_the_check_is_clean_and_the_api_pages(
    org, manager, template, customers, settings, client, capsys
):
    # given clicks in three months: two months ago (one of them on the first day of last month on India's clock,
    # still in the month before on UTC's), last month, and this month; a recipient who clicked in each month, on
    # the same phone
    now = timezone.now()
    this_month = partitions.month_of(now)
    two_ago, last = partitions.months_after(this_month, -2), partitions.months_after(this_month, -1)
    if connection.vendor == "postgresql":
        partitions.click_partitions_keep(first_month=two_ago)
    campaign = CampaignFactory(org=org, template=template, status="dispatched")
    link, other_link = link_for(campaign), link_for(campaign, "https://shop.acme.test/other")
    messages = make_messages(campaign, customers[:4], status="delivered")
    for message in messages:
        add_click(link, message, _month_start(two_ago) + timedelta(days=9, hours=5))
    add_click(other_link, messages[1], _month_start(last) - timedelta(hours=1))  # 04:30 on the 1st in India
    add_click(link, messages[0], _month_start(last) + timedelta(days=4), agent=IPHONE)
    add_click(link, messages[0], _month_start(last) + timedelta(days=5))
    add_click(link, None, _month_start(last) + timedelta(days=6))
    add_click(other_link, messages[2], now - timedelta(minutes=1))
    before = _figures(campaign, org)
    assert click_counters_verify() == []

    # when beat's job runs with one month of clicks kept
    settings.CLICK_RETENTION_MONTHS = 1
    kept = partitions.click_partitions_keep()

    # then the clicks before last month are gone (whole months), and that was recorded
    assert not Click.objects.filter(clicked_at__lt=_month_start(last)).exists()
    assert Click.objects.count() == 4
    retention = ClickRetention.objects.get()
    assert retention.kept_from == _month_start(last) and kept.dropped == retention.dropped
    if connection.vendor == "postgresql":
        assert partitions.partition_name(two_ago) in retention.dropped
        assert partitions.partition_name(two_ago) not in [p.name for p in partitions.click_partitions()]

    # and every figure of every report is what it was; the counters' check finds nothing to report
    assert _figures(campaign, org) == before
    assert click_counters_verify() == []
    call_command("verify_click_counters")
    assert "agree" in capsys.readouterr().out

    # and a rebuild, which would lose the dropped months, is refused in words and changes nothing
    assert click_counters_build(everything=True, progress=print) == 0
    assert "dropped since (CLICK_RETENTION_MONTHS); a rebuild would lose them" in capsys.readouterr().out
    assert _figures(campaign, org) == before

    # and the reporting API pages through the clicks kept, by id
    key = api_keys.api_key_create(org=org, user=manager, name="BI")[1]
    url, seen = f"/api/v1/campaigns/{campaign.pk}/clicks/?limit=2", []
    while url:
        page = client.get(url, headers={"Authorization": f"Bearer {key}"}).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(Click.objects.filter(is_bot=False).values_list("pk", flat=True)) and len(seen) == 4

    # and a second run drops nothing more
    assert partitions.click_partitions_keep().dropped == ""
    assert ClickRetention.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_difference_in_the_days_kept_is_still_found(org, template, customers, settings):
    # given clicks two months ago and last month, the older ones dropped
    this_month = partitions.month_of(timezone.now())
    two_ago, last = partitions.months_after(this_month, -2), partitions.months_after(this_month, -1)
    campaign = CampaignFactory(org=org, template=template)
    link = link_for(campaign)
    message = make_messages(campaign, customers[:1])[0]
    add_click(link, message, _month_start(two_ago) + timedelta(days=3))
    add_click(link, message, _month_start(last) + timedelta(days=3))
    settings.CLICK_RETENTION_MONTHS = 1
    partitions.click_retention_apply()

    # when a kept day's counter is wrong, the check says so
    DailyClicks.objects.filter(campaign=campaign, day__gte=last).update(total=5)
    assert any("clicks on link/day" in difference for difference in click_counters_verify())


@pytest.mark.django_db(transaction=True)
def test_a_partition_that_cannot_have_its_lock_in_time_is_left_for_the_next_run(postgres, caplog, monkeypatch):
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "300ms")  # (the job's own wait, shortened for the test)
    # given a long report reading the click table in another session
    import psycopg2

    reader = psycopg2.connect(**connection.get_connection_params())
    reader.cursor().execute("SELECT count(*) FROM linktrack_click")
    later = partitions.months_after(partitions.month_of(timezone.now()), 50)
    try:
        # when beat's job runs, the new month's partition waits for its lock no longer than LOCK_TIMEOUT
        kept = partitions.click_partitions_keep(now=_month_start(later))

        # then it is left for the next run, said in the log, and the job finished the rest
        assert partitions.partition_name(later) not in kept.created
        assert f"no partition made for {later:%Y-%m} this time" in caplog.text
    finally:
        reader.rollback()
        reader.close()
    assert partitions.partition_name(later) in partitions.click_partitions_keep(now=_month_start(later)).created


def test_the_admin_lists_what_was_dropped_and_lets_nobody_change_it(client, admin_user):
    ClickRetention.objects.create(kept_from=datetime(2026, 11, 1, tzinfo=UTC), dropped="linktrack_click_p2026_10")
    admin_sign_in(client, admin_user)
    listing = client.get(reverse("admin:linktrack_clickretention_changelist")).content.decode()
    assert "linktrack_click_p2026_10" in listing
    assert client.get(reverse("admin:linktrack_clickretention_add")).status_code == 403
