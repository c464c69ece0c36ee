"""A campaign's history: what linktrack did on its own and why (paused, restarted, each run of a recurring
campaign), and where a campaign came from (a duplicate, a resend) and what changed in its link settings."""

from datetime import timedelta

from django.urls import reverse

from campaigns.lifecycle import services
from campaigns.models import Campaign, WhitelistedUrl
from campaigns.sending.supervisor import campaigns_supervise
from delivery.models import Message
from tests.campaigns.base.helpers import Kind, history, prepared, supervise
from tests.factories import create_campaign, make_customers
from tests.helpers import launch


def kinds(campaign: Campaign) -> list[str]:
    return [kind for kind, _, _ in history(campaign)]


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
