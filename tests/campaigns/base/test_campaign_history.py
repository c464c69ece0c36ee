"""A campaign's history: who did what to it and when, from its creation to its launch, pause or cancel."""

from datetime import timedelta

from django.urls import reverse

from campaigns.lifecycle import services
from campaigns.models import Campaign, WhitelistedUrl
from tests.campaigns.base.helpers import Kind, history, prepared, supervise
from tests.campaigns.helpers import edit_form
from tests.factories import create_campaign, make_customers
from tests.helpers import launch

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
    client.post(reverse("campaigns:launch", args=[campaign.pk]), {"scheduled_at": "2026-11-23T18:30", "confirmed": "1"})
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
