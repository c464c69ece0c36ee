"""A campaign's history: who did what to it and when, and what linktrack did on its own and why."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.base.history import HISTORY_LIMIT, campaign_event_record, campaign_history
from campaigns.lifecycle import services
from campaigns.models import Campaign, CampaignEvent, User, WhitelistedUrl
from campaigns.sending import dispatch
from campaigns.sending.supervisor import campaigns_supervise
from delivery.models import Message
from tests.campaigns.helpers import edit_form
from tests.factories import UserFactory, create_campaign, make_customers
from tests.helpers import launch

Kind = CampaignEvent.Kind


def history(campaign: Campaign) -> list[tuple[str, str | None, str]]:
    """(kind, who, detail) of every event, oldest first."""
    events = CampaignEvent.objects.filter(campaign=campaign).order_by("at", "pk")
    return [(e.kind, e.user.email if e.user else None, e.detail) for e in events.select_related("user")]


def kinds(campaign: Campaign) -> list[str]:
    return [kind for kind, _, _ in history(campaign)]


def supervise(capture) -> dict:
    with capture(execute=True):
        return campaigns_supervise()


def prepared(template, manager, count=10) -> Campaign:
    """A launched campaign whose messages are prepared and queued, none handed to the gateway yet."""
    make_customers(template.org, count)
    campaign = create_campaign(template, manager)
    services.campaign_launch(campaign=campaign, user=manager)  # on-commit tasks never run in this test
    dispatch.campaign_dispatch(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign


# What people do


def test_creating_and_changing_a_draft_say_who_and_what_and_an_unchanged_save_records_nothing(
    client, manager, template
):
    # given a draft the manager created
    campaign = create_campaign(template, manager, name="Diwali")
    assert history(campaign) == [(Kind.CREATED, manager.email, "One-time, to every customer")]
    client.force_login(manager)

    # when the manager saves it unchanged, then changes its name and link
    client.post(reverse("campaigns:edit", args=[campaign.pk]), edit_form(campaign))
    client.post(
        reverse("campaigns:edit", args=[campaign.pk]),
        edit_form(campaign, name="Diwali VIP", slot_2_value="https://acme.test/vip"),
    )

    # then only the real change is recorded, with what changed
    assert history(campaign)[1:] == [(Kind.EDITED, manager.email, "name, variables")]


def test_launching_now_records_the_launch_by_the_manager_and_the_hand_over_by_linktrack_once(
    template, manager, settings, django_capture_on_commit_callbacks
):
    # given 30 recipients prepared in batches of 4
    settings.DISPATCH_BATCH_SIZE = 4
    make_customers(template.org, 30)
    campaign = create_campaign(template, manager)

    # when launched now (and launched again by a second click)
    campaign = launch(campaign, manager, django_capture_on_commit_callbacks)
    launch(campaign, manager, django_capture_on_commit_callbacks)

    # then a handful of events, not one per batch or message
    assert campaign.status == Campaign.Status.DISPATCHED
    assert history(campaign)[1:] == [
        (Kind.LAUNCHED, manager.email, "Sending now"),
        (Kind.HANDED_OVER, None, "Every recipient was checked and each message to send was queued for the gateway"),
    ]


def test_scheduling_then_the_supervisor_starting_it_at_its_time(
    client, template, manager, customers, clock, django_capture_on_commit_callbacks
):
    # given a draft scheduled at 12:00 IST for 18:30 (the org's clock)
    campaign = create_campaign(template, manager)
    client.force_login(manager)
    client.post(reverse("campaigns:launch", args=[campaign.pk]), {"scheduled_at": "2026-11-23T18:30"})
    assert history(campaign)[-1] == (Kind.SCHEDULED, manager.email, "To be sent at 23 Nov 2026 18:30 (Asia/Kolkata)")

    # when the supervisor passes before and at its time
    clock.set(2026, 11, 23, 18, 29)
    supervise(django_capture_on_commit_callbacks)
    clock.set(2026, 11, 23, 18, 30)
    supervise(django_capture_on_commit_callbacks)
    supervise(django_capture_on_commit_callbacks)

    # then linktrack started it once, at its time, and handed it over
    assert history(campaign)[2:] == [
        (Kind.STARTED, None, "At its scheduled time"),
        (Kind.HANDED_OVER, None, "Every recipient was checked and each message to send was queued for the gateway"),
    ]


def test_a_scheduled_campaign_that_now_breaks_a_rule_says_it_went_back_to_draft_and_why(
    template, manager, customers, clock, django_capture_on_commit_callbacks
):
    campaign = create_campaign(template, manager)
    services.campaign_launch(campaign=campaign, user=manager, scheduled_at=clock.moment + timedelta(hours=6.5))
    WhitelistedUrl.objects.create(org=template.org, url="https://acme.test/", kind=WhitelistedUrl.Kind.DYNAMIC)

    clock.set(2026, 11, 23, 18, 30)
    supervise(django_capture_on_commit_callbacks)

    kind, who, detail = history(campaign)[-1]
    assert (kind, who) == (Kind.NOT_STARTED, None)
    assert detail.startswith("Not sent at 23 Nov 2026 18:30 as planned; fix this, then launch it again: Tracked links")


def test_a_promotional_campaign_held_outside_the_window_then_continued_by_linktrack(
    promotional_template, manager, clock, django_capture_on_commit_callbacks
):
    # given a promotional campaign launched at 21:30 IST
    make_customers(promotional_template.org, 4)
    clock.set(2026, 11, 23, 21, 30)
    campaign = launch(create_campaign(promotional_template, manager), manager, django_capture_on_commit_callbacks)

    # when the window opens at 09:00
    clock.set(2026, 11, 24, 9, 0, 10)
    supervise(django_capture_on_commit_callbacks)

    # then its history says it was held until then, and continued
    assert history(campaign)[1:] == [
        (Kind.LAUNCHED, manager.email, "Sending now"),
        (Kind.HELD, None, campaign.hold_reason),
        (Kind.STARTED, None, "Continuing where it stopped"),
        (Kind.HANDED_OVER, None, "Every recipient was checked and each message to send was queued for the gateway"),
    ]
    assert "held until 09:00 IST on 24 Nov" in campaign.hold_reason


def test_a_held_campaign_that_now_breaks_a_rule_is_paused_by_linktrack_with_the_reason(
    promotional_template, manager, clock, django_capture_on_commit_callbacks
):
    make_customers(promotional_template.org, 4)
    clock.set(2026, 11, 23, 21, 30)
    campaign = launch(create_campaign(promotional_template, manager), manager, django_capture_on_commit_callbacks)
    WhitelistedUrl.objects.create(
        org=promotional_template.org, url="https://acme.test/", kind=WhitelistedUrl.Kind.DYNAMIC
    )

    clock.set(2026, 11, 24, 9, 0, 10)
    supervise(django_capture_on_commit_callbacks)

    kind, who, detail = history(campaign)[-1]
    assert (kind, who) == (Kind.AUTO_PAUSED, None)
    assert detail.startswith("Not continued at 24 Nov 2026 09:00; fix this, then resume: Tracked links")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED


def test_pause_resume_and_cancel_name_the_manager_and_a_refused_one_records_nothing(
    client, template, manager, django_capture_on_commit_callbacks
):
    # given a campaign with queued messages
    campaign = prepared(template, manager)
    client.force_login(manager)

    # when the manager pauses it twice, resumes it twice and cancels it twice
    client.post(reverse("campaigns:pause", args=[campaign.pk]))
    client.post(reverse("campaigns:pause", args=[campaign.pk]))
    with django_capture_on_commit_callbacks(execute=False):  # the dispatch waits: messages stay queued
        client.post(reverse("campaigns:resume", args=[campaign.pk]))
    client.post(reverse("campaigns:resume", args=[campaign.pk]))
    client.post(reverse("campaigns:cancel", args=[campaign.pk]))
    client.post(reverse("campaigns:cancel", args=[campaign.pk]))

    # then each change that happened is recorded once, by the manager
    assert [(kind, who) for kind, who, _ in history(campaign)[3:]] == [
        (Kind.PAUSED, manager.email),
        (Kind.RESUMED, manager.email),
        (Kind.CANCELLED, manager.email),
    ]


def test_the_supervisor_pausing_a_failing_campaign_gives_the_error_rate(template, manager, settings, clock):
    # given 20 messages refused by the gateway and 10 accepted out of 40
    settings.AUTO_PAUSE_MIN_MESSAGES = 20
    settings.AUTO_PAUSE_ERROR_RATE = 0.25
    campaign = prepared(template, manager, count=40)
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[:20]).update(
        status=Message.Status.NOT_SENT, reason_code="gateway_timeout", finished_at=clock.moment
    )
    Message.objects.filter(pk__in=ids[20:30]).update(
        status=Message.Status.SENT, gateway_message_id="g", sent_at=clock.moment
    )

    # when the supervisor passes twice
    campaigns_supervise()
    campaigns_supervise()

    # then linktrack paused it once, and says why
    paused = [(who, detail) for kind, who, detail in history(campaign) if kind == Kind.AUTO_PAUSED]
    assert paused == [
        (
            None,
            "the gateway refused 20 of the last 30 messages (67%, the limit is 25%). Check the gateway, then resume.",
        )
    ]


def test_the_supervisor_restarting_a_dispatch_whose_worker_died_says_so(
    template, manager, clock, settings, django_capture_on_commit_callbacks
):
    settings.DISPATCH_STALE_SECONDS = 60
    make_customers(template.org, 5)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.DISPATCHING, launched_at=clock.moment, heartbeat_at=clock.moment - timedelta(minutes=5)
    )

    supervise(django_capture_on_commit_callbacks)

    assert kinds(campaign)[1:] == [Kind.DISPATCH_RESTARTED, Kind.HANDED_OVER]
    assert "stopped reporting at 23 Nov 2026 11:55" in history(campaign)[1][2]


def test_a_recurring_campaign_records_each_run_and_each_skipped_run_and_the_run_its_start(
    template, manager, clock, django_capture_on_commit_callbacks
):
    # given a campaign every day at 10:00 IST, launched on 23 Nov at 12:00
    make_customers(template.org, 3)
    parent = create_campaign(template, manager, name="Daily", kind=Campaign.Kind.RECURRING, schedule="0 10 * * *")
    parent = launch(parent, manager, django_capture_on_commit_callbacks)

    # when its first run is due, then the org records a whitelist without the short domain before the second
    clock.set(2026, 11, 24, 10, 0, 5)
    supervise(django_capture_on_commit_callbacks)
    WhitelistedUrl.objects.create(org=template.org, url="https://acme.test/", kind=WhitelistedUrl.Kind.DYNAMIC)
    clock.set(2026, 11, 25, 10, 0, 5)
    supervise(django_capture_on_commit_callbacks)

    # then the campaign's history has its launch, the run and the skipped run with the reason
    run = parent.runs.get()
    events = history(parent)
    assert events[0] == (Kind.CREATED, manager.email, "Recurring (0 10 * * *), to every customer")
    assert events[1] == (
        Kind.LAUNCHED,
        manager.email,
        "Runs on the schedule 0 10 * * *; the first at 24 Nov 2026 10:00",
    )
    assert events[2] == (Kind.RUN_STARTED, None, f"“{run.name}”")
    assert events[3][:2] == (Kind.RUN_SKIPPED, None)
    assert events[3][2].startswith("The run of 25 Nov 2026 10:00 was skipped: Tracked links")
    # and the run's own history starts with how it began
    assert history(run) == [
        (Kind.RUN_STARTED, None, "Run 1 of “Daily”, on its schedule"),
        (Kind.HANDED_OVER, None, "Every recipient was checked and each message to send was queued for the gateway"),
    ]


def test_stopping_a_recurring_schedule_says_so(template, manager, django_capture_on_commit_callbacks):
    parent = create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="0 10 * * *")
    parent = launch(parent, manager, django_capture_on_commit_callbacks)

    services.campaign_cancel(campaign=parent, user=manager)

    assert history(parent)[-1] == (Kind.CANCELLED, manager.email, "The schedule was stopped: no more runs")


def test_a_duplicate_says_which_campaign_it_was_copied_from(client, template, manager):
    campaign = create_campaign(template, manager, name="Diwali")
    client.force_login(manager)

    client.post(reverse("campaigns:duplicate", args=[campaign.pk]))

    copy = Campaign.objects.get(name="Diwali (copy)")
    assert history(copy) == [(Kind.DUPLICATED_FROM, manager.email, "From “Diwali”")]
    assert kinds(campaign) == [Kind.CREATED]


def test_a_resend_is_recorded_on_it_and_on_the_campaign_it_resends(
    template, manager, django_capture_on_commit_callbacks
):
    # given a finished campaign with 2 gateway timeouts
    make_customers(template.org, 4)
    source = launch(create_campaign(template, manager, name="Diwali"), manager, django_capture_on_commit_callbacks)
    ids = list(Message.objects.filter(campaign=source).order_by("pk").values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[:2]).update(
        status=Message.Status.NOT_SENT, reason_code="gateway_timeout", gateway_message_id=""
    )

    # when the manager resends those
    resend = services.campaign_resend_create(
        source=source,
        user=manager,
        name="Diwali retry",
        template=template,
        slot_values=source.slot_values,
        reasons=["gateway_timeout"],
    )

    # then both histories say so, in the reasons' words
    assert history(resend) == [
        (
            Kind.RESEND_CREATED,
            manager.email,
            "Of “Diwali”, to the messages that ended as: Gateway did not accept in time",
        )
    ]
    assert history(source)[-1] == (
        Kind.RESEND_CREATED,
        manager.email,
        "“Diwali retry”, to the messages that ended as: Gateway did not accept in time",
    )


def test_changing_link_settings_says_what_changed_and_saving_them_unchanged_records_nothing(
    client, template, manager, django_capture_on_commit_callbacks
):
    campaign = create_campaign(template, manager)
    client.force_login(manager)
    empty = {"utm_source": "", "utm_medium": "", "utm_campaign": "", "links_expire_at": "", "expired_link_url": ""}
    url = reverse("campaigns:link-settings", args=[campaign.pk])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, empty)
        client.post(url, empty | {"utm_source": "sms", "utm_medium": "text"})
        client.post(url, empty | {"utm_source": "sms", "utm_medium": "text"})
        client.post(
            url,
            empty
            | {
                "utm_source": "sms",
                "utm_medium": "text",
                "links_expire_at": "2026-12-31T23:00",
                "expired_link_url": "https://acme.test/",
            },
        )

    assert history(campaign)[1:] == [
        (Kind.LINK_SETTINGS_CHANGED, manager.email, "UTM parameters utm_source=sms, utm_medium=text"),
        (
            Kind.LINK_SETTINGS_CHANGED,
            manager.email,
            "links work until 31 Dec 2026 23:00, then lead to https://acme.test/",
        ),
    ]


# The campaign page


def _history_rows(page: str) -> list[tuple[str, str]]:
    """(what happened, who) of each row of the page's History table, top to bottom."""
    table = page[page.index('<table id="history-events">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r'<tr data-event="[^"]+"><td>[^<]+</td><td>(.*?)</td><td>([^<]+)</td></tr>', table)
    return [(re.sub(r"<[^>]+>", "", what), who) for what, who in rows]


def test_the_page_lists_the_history_newest_first_with_who_did_it(
    client, template, manager, django_capture_on_commit_callbacks
):
    # given a campaign launched by the manager and handed over by linktrack
    make_customers(template.org, 3)
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    client.force_login(manager)

    # when the manager opens its page
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    # then the History section lists the events, newest first, with the actor
    assert "<h2>History</h2>" in page
    assert _history_rows(page) == [
        (
            "Handed to the gateway: Every recipient was checked and each message to send was queued for the gateway",
            "linktrack",
        ),
        ("Launched: Sending now", manager.email),
        ("Created: One-time, to every customer", manager.email),
    ]
    assert "earlier event" not in page


def test_the_page_shows_the_latest_20_events_and_how_many_earlier_ones_there_are(client, template, manager):
    # given a campaign with 26 events
    campaign = create_campaign(template, manager)
    for number in range(1, 26):
        campaign_event_record(campaign=campaign, kind=Kind.EDITED, user=manager, detail=f"change {number}")
    client.force_login(manager)

    # when its page is opened
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    # then the latest 20 are listed, newest first, and the 6 older ones are counted
    rows = _history_rows(page)
    assert len(rows) == HISTORY_LIMIT
    assert rows[0] == ("Changed: Change 25", manager.email) and rows[-1] == ("Changed: Change 6", manager.email)
    assert "and 6 earlier events" in page


def test_an_event_of_a_deleted_user_does_not_read_as_done_by_linktrack(template, manager):
    departed = UserFactory(email="gone@acme.test", password="a-long-test-password-1")
    campaign = create_campaign(template, departed)
    departed.delete()

    events = campaign_history(campaign=campaign).events

    assert [event.by for event in events] == ["a deleted user"]


def test_another_orgs_manager_gets_a_404_for_the_page(client, template, manager, outsider):
    campaign = create_campaign(template, manager)
    client.force_login(outsider)

    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404


def test_the_page_takes_as_many_queries_for_30_events_as_for_2(client, template, manager):
    # given a campaign with 2 events, then with 30
    campaign = create_campaign(template, manager)
    other = UserFactory(email="other@acme.test", password="a-long-test-password-1")
    campaign_event_record(campaign=campaign, kind=Kind.EDITED, user=other)
    client.force_login(manager)
    url = reverse("campaigns:detail", args=[campaign.pk])
    client.get(url)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            page = client.get(url).content.decode()
        counts.append(len(captured))
        for number in range(28):
            user = (manager, other, None)[number % 3]
            campaign_event_record(campaign=campaign, kind=Kind.EDITED, user=user, detail=f"change {number}")

    # then the page makes the same number of queries (events are read with their users, at most 20)
    assert "and 10 earlier events" in page
    assert counts[0] == counts[1]


# Support


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin@linktrack.test", "a-long-test-password-1")


def test_support_reads_the_history_in_the_admin_and_cannot_change_it(
    client, template, manager, superuser, django_capture_on_commit_callbacks
):
    make_customers(template.org, 2)
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    client.force_login(superuser)

    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    assert "Handed to the gateway" in page and "Sending now" in page
    assert 'name="events-0-detail"' not in page and "events-TOTAL_FORMS" in page
