"""Every campaign type: one-time now or scheduled, recurring runs, coupon-expiry reminders, promotional hold."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.lifecycle import services
from campaigns.models import Campaign, Coupon, Customer, WhitelistedUrl
from campaigns.sending import starts
from campaigns.sending.supervisor import campaigns_supervise
from delivery.models import Message
from tests.factories import SegmentFactory, create_campaign, make_customers
from tests.helpers import IST, launch


def supervise(capture) -> dict:
    with capture(execute=True):
        return campaigns_supervise()


def test_one_time_campaign_sends_now(template, manager, customers, django_capture_on_commit_callbacks):
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)

    assert campaign.status == Campaign.Status.DISPATCHED
    assert Message.objects.filter(campaign=campaign).exclude(gateway_message_id="").count() == 10


def test_scheduled_campaign_waits_for_its_time_in_the_org_time_zone(
    client, template, manager, customers, clock, django_capture_on_commit_callbacks
):
    # given a draft and the time 12:00 IST
    campaign = create_campaign(template, manager)
    client.force_login(manager)

    # when the manager schedules it for 18:30 (the org's clock, Asia/Kolkata)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("campaigns:launch", args=[campaign.pk]), {"scheduled_at": "2026-11-23T18:30", "confirmed": "1"}
        )
    campaign.refresh_from_db()

    # then nothing is sent before 18:30 IST, and everything after the supervisor's next pass
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at.astimezone(IST).timetuple()[3:5] == (18, 30)
    clock.set(2026, 11, 23, 18, 29)
    supervise(django_capture_on_commit_callbacks)
    assert not Message.objects.filter(campaign=campaign).exists()
    clock.set(2026, 11, 23, 18, 30)
    supervise(django_capture_on_commit_callbacks)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
    assert Message.objects.filter(campaign=campaign).count() == 10


def test_scheduled_campaign_that_now_breaks_a_rule_goes_back_to_draft_with_the_reason(
    client, template, manager, customers, clock, django_capture_on_commit_callbacks
):
    # given a campaign scheduled for 18:30 IST, then the org records a DLT URL whitelist without its short domain
    campaign = create_campaign(template, manager)
    services.campaign_launch(campaign=campaign, user=manager, scheduled_at=clock.moment + timedelta(hours=6.5))
    WhitelistedUrl.objects.create(org=template.org, url="https://acme.test/", kind=WhitelistedUrl.Kind.DYNAMIC)

    # when its time comes
    clock.set(2026, 11, 23, 18, 30)
    supervise(django_capture_on_commit_callbacks)

    # then nothing is sent; it is a draft again, and its page says why and what to do
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.scheduled_at is None
    assert not Message.objects.filter(campaign=campaign).exists()
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Not sent at 23 Nov 2026 18:30 as planned; fix this, then launch it again: Tracked links" in page
    assert "whitelist" in campaign.hold_reason


def test_scheduling_in_the_past_is_refused(template, manager, clock):
    campaign = create_campaign(template, manager)
    with pytest.raises(ValidationError, match="in the future"):
        services.campaign_launch(campaign=campaign, user=manager, scheduled_at=clock.moment - timedelta(minutes=1))
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_recurring_campaign_runs_on_its_schedule_each_run_with_its_own_report(
    template, manager, clock, django_capture_on_commit_callbacks
):
    # given a campaign every day at 10:00 IST, launched on 23 Nov at 12:00
    make_customers(template.org, 5)
    parent = create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="0 10 * * *")
    parent = launch(parent, manager, django_capture_on_commit_callbacks)
    assert parent.status == Campaign.Status.ACTIVE
    assert parent.next_run_at.astimezone(IST).timetuple()[:4] == (2026, 11, 24, 10)

    # when the supervisor passes before and after the next two runs are due
    supervise(django_capture_on_commit_callbacks)
    assert not parent.runs.exists()
    clock.set(2026, 11, 24, 10, 0, 5)
    supervise(django_capture_on_commit_callbacks)
    clock.set(2026, 11, 25, 10, 0, 5)
    supervise(django_capture_on_commit_callbacks)

    # then each run is its own campaign with its own messages (each customer once per run)
    runs = list(parent.runs.order_by("pk"))
    assert len(runs) == 2
    for run in runs:
        assert run.status == Campaign.Status.DISPATCHED
        assert Message.objects.filter(campaign=run).count() == 5
    assert not Message.objects.filter(campaign=parent).exists()
    assert Campaign.objects.get(pk=parent.pk).next_run_at.astimezone(IST).day == 26


def test_a_recurring_run_never_overlaps_the_previous_one(template, manager, clock, django_capture_on_commit_callbacks):
    # given a run still handing messages over
    make_customers(template.org, 3)
    parent = launch(
        create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="*/5 * * * *"),
        manager,
        django_capture_on_commit_callbacks,
    )
    clock.set(2026, 11, 23, 12, 5)
    first = starts.campaign_run_start(parent_id=parent.pk)  # dispatch task not run: messages not prepared yet
    assert first is not None and first.status == Campaign.Status.DISPATCHING

    # when the next run is due while the first is still sending
    clock.set(2026, 11, 23, 12, 10)
    second = starts.campaign_run_start(parent_id=parent.pk)

    # then it waits; once the first run has finished, the next pass starts it
    assert second is None and parent.runs.count() == 1
    Campaign.objects.filter(pk=first.pk).update(status=Campaign.Status.DISPATCHED)
    assert starts.campaign_run_start(parent_id=parent.pk) is not None
    assert parent.runs.count() == 2


def test_invalid_schedule_is_refused_in_words(template, manager):
    with pytest.raises(ValidationError, match="not a valid schedule"):
        create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="every monday")


def test_coupon_reminder_reaches_customers_whose_coupon_expires_in_n_days_with_code_and_date(
    org, sender, manager, clock, django_capture_on_commit_callbacks
):
    from campaigns.models import Template

    template = Template.objects.create(
        dlt_template_id="1707160000000000009",
        org=org,
        name="Coupon",
        sender=sender,
        body="Hi {#var#}, coupon {#var#} ends {#var#} - Acme",
    )
    # given coupons expiring in 3 days, in 4 days and already expired
    soon, later, gone = make_customers(org, 3)
    Coupon.objects.create(customer=soon, code="SAVE10", expires_on=date(2026, 11, 26))
    Coupon.objects.create(customer=later, code="SAVE20", expires_on=date(2026, 11, 27))
    Coupon.objects.create(customer=gone, code="OLD", expires_on=date(2026, 11, 20))
    campaign = create_campaign(
        template,
        manager,
        kind=Campaign.Kind.COUPON_REMINDER,
        coupon_days=3,
        slot_values=[
            {"source": "field", "value": "name"},
            {"source": "field", "value": "coupon_code"},
            {"source": "field", "value": "coupon_expiry"},
        ],
    )

    # when the reminder is sent on 23 Nov
    campaign = launch(campaign, manager, django_capture_on_commit_callbacks)

    # then only the customer whose coupon expires on 26 Nov gets it, with the code and date in the slots
    message = Message.objects.get(campaign=campaign)
    assert message.customer == soon
    assert message.body == "Hi Customer 1, coupon SAVE10 ends 26 Nov 2026 - Acme"
    assert Customer.objects.get(pk=soon.pk).attributes == {}  # coupon values are never saved on the customer


def test_promotional_campaign_outside_the_window_is_held_then_continues(
    promotional_template, manager, clock, django_capture_on_commit_callbacks
):
    # given a promotional campaign launched at 21:30 IST
    make_customers(promotional_template.org, 4)
    clock.set(2026, 11, 23, 21, 30)
    campaign = launch(create_campaign(promotional_template, manager), manager, django_capture_on_commit_callbacks)

    # then it is held (not dropped) until 09:00 IST, with the reason on its page
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at.astimezone(IST).timetuple()[:5] == (2026, 11, 24, 9, 0)
    assert "between 09:00 and 21:00 IST" in campaign.hold_reason
    assert not Message.objects.filter(campaign=campaign).exists()

    # when the window opens, the supervisor resumes it and every message goes out
    clock.set(2026, 11, 24, 9, 0, 10)
    supervise(django_capture_on_commit_callbacks)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DISPATCHED and campaign.hold_reason == ""
    assert Message.objects.filter(campaign=campaign).exclude(gateway_message_id="").count() == 4


def test_held_campaign_whose_links_broke_a_rule_meanwhile_is_paused_at_window_opening_and_resumes_once_fixed(
    client, promotional_template, manager, clock, django_capture_on_commit_callbacks
):
    # given a promotional campaign held overnight, and meanwhile the org records a whitelist without its short domain
    make_customers(promotional_template.org, 4)
    clock.set(2026, 11, 23, 21, 30)
    campaign = launch(create_campaign(promotional_template, manager), manager, django_capture_on_commit_callbacks)
    assert campaign.status == Campaign.Status.SCHEDULED
    WhitelistedUrl.objects.create(org=campaign.org, url="https://acme.test/", kind=WhitelistedUrl.Kind.DYNAMIC)

    # when the window opens
    clock.set(2026, 11, 24, 9, 0, 10)
    supervise(django_capture_on_commit_callbacks)

    # then it is paused (it had started, so it is not a draft again), nothing is sent, and the page says why
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED and campaign.scheduled_at is None
    assert campaign.hold_reason.startswith("Not continued at 24 Nov 2026 09:00; fix this, then resume: Tracked links")
    assert not Message.objects.filter(campaign=campaign).exists()

    # and resuming is refused with the reason while the rule is still broken
    client.force_login(manager)
    page = client.post(reverse("campaigns:resume", args=[campaign.pk]), follow=True).content.decode()
    assert '<li class="error">Tracked links' in page and "URL whitelist" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED

    # once the short domain is whitelisted, resuming sends every message
    WhitelistedUrl.objects.create(org=campaign.org, url="127.0.0.1:8000/s/", kind=WhitelistedUrl.Kind.DYNAMIC)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campaigns:resume", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DISPATCHED and campaign.hold_reason == ""
    assert Message.objects.filter(campaign=campaign).exclude(gateway_message_id="").count() == 4


def test_promotional_campaign_reaching_21_00_holds_the_rest(
    promotional_template, manager, clock, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from campaigns.sending import dispatch

    # given batches of 2 and the clock passing 21:00 after the first batch
    settings.DISPATCH_BATCH_SIZE = 2
    make_customers(promotional_template.org, 5)
    clock.set(2026, 11, 23, 20, 59)
    real_batch = dispatch.Dispatcher._dispatch_batch

    def batch_then_tick(self, customers):
        done = real_batch(self, customers)
        if clock.moment.hour == 20:
            clock.set(2026, 11, 23, 21, 0)
        return done

    monkeypatch.setattr(dispatch.Dispatcher, "_dispatch_batch", batch_then_tick)
    campaign = launch(create_campaign(promotional_template, manager), manager, django_capture_on_commit_callbacks)

    # then the campaign stops at 21:00: what the gateway had not taken yet waits for 09:00 with the rest
    assert campaign.status == Campaign.Status.SCHEDULED
    assert Message.objects.filter(campaign=campaign).exclude(gateway_message_id="").count() < 5
    clock.set(2026, 11, 24, 9, 0)
    supervise(django_capture_on_commit_callbacks)
    assert Message.objects.filter(campaign=campaign).exclude(gateway_message_id="").count() == 5
    assert len(set(Message.objects.filter(campaign=campaign).values_list("customer_id", flat=True))) == 5


def test_manager_creates_a_recurring_campaign_in_the_form(client, manager, template):
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:new") + f"?template={template.pk}",
        {
            "name": "Weekly",
            "slot_1_source": "field",
            "slot_1_value": "name",
            "slot_2_source": "url",
            "slot_2_value": "https://acme.test/w",
            "kind": "recurring",
            "schedule": "0 10 * * 1",
        },
    )
    campaign = Campaign.objects.get(name="Weekly")
    assert response.status_code == 302
    assert campaign.kind == Campaign.Kind.RECURRING and campaign.schedule == "0 10 * * 1"


def test_recurring_without_schedule_is_refused_next_to_the_field(client, manager, template):
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:new") + f"?template={template.pk}",
        {
            "name": "Weekly",
            "slot_1_source": "text",
            "slot_1_value": "friend",
            "slot_2_source": "url",
            "slot_2_value": "https://acme.test/w",
            "kind": "recurring",
        },
    )
    assert response.status_code == 200
    assert "A recurring campaign needs a schedule: every day, week or month." in response.content.decode()
    assert not Campaign.objects.exists()


def test_recurring_email_campaign_sends_each_run_by_email(org, manager, clock, django_capture_on_commit_callbacks):
    from campaigns.models import Template

    template = Template.objects.create(
        org=org, name="Weekly mail", channel="email", subject="This week", body="Hello {#var#}"
    )
    Customer.objects.create(org=org, name="Asha", email="asha@example.com")
    Customer.objects.create(org=org, name="No email", mobile="+919810000009")
    parent = launch(
        create_campaign(
            template,
            manager,
            kind=Campaign.Kind.RECURRING,
            schedule="0 9 * * 1",
            slot_values=[{"source": "field", "value": "name"}],
        ),
        manager,
        django_capture_on_commit_callbacks,
    )

    clock.set(2026, 11, 30, 9, 0, 1)  # the next Monday
    supervise(django_capture_on_commit_callbacks)

    run = parent.runs.get()
    sent = Message.objects.get(campaign=run, customer__name="Asha")
    assert sent.channel == "email" and sent.recipient == "asha@example.com" and sent.body == "Hello Asha"
    assert sent.gateway_message_id
    assert Message.objects.get(campaign=run, customer__name="No email").reason_code == "validation_failed"


def test_a_recurring_run_is_skipped_in_words_when_its_template_no_longer_passes(
    org, sender, manager, clock, django_capture_on_commit_callbacks
):
    # given a recurring campaign launched while tracking was off, on a template with a link in its fixed text
    from campaigns.models import Template

    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    template = Template.objects.create(
        dlt_template_id="1707160000000000009",
        org=org,
        name="Fixed link",
        sender=sender,
        body="Weekly deals at www.acme.test/deals for {#var#}",
    )
    make_customers(org, 3)
    parent = create_campaign(
        template,
        manager,
        kind=Campaign.Kind.RECURRING,
        schedule="0 10 * * *",
        slot_values=[{"source": "field", "value": "name"}],
    )
    parent = launch(parent, manager, django_capture_on_commit_callbacks)

    # when support switches tracking on before the next run
    org.sms_link_tracking = True
    org.save(update_fields=["sms_link_tracking"])
    clock.set(2026, 11, 24, 10, 0, 5)
    supervise(django_capture_on_commit_callbacks)

    # then the run is skipped (nothing sent that operators would block) and the page says why
    parent.refresh_from_db()
    assert not parent.runs.exists()
    assert "was skipped" in parent.hold_reason and "www.acme.test/deals" in parent.hold_reason
    assert parent.next_run_at.astimezone(IST).day == 25


def test_launch_refuses_a_segment_that_cannot_be_evaluated(template, manager):

    segment = SegmentFactory(
        org=template.org, name="Broken", conditions=[{"attribute": "city", "op": "near", "value": "Pune"}]
    )
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(audience_segment=segment)
    campaign.refresh_from_db()
    with pytest.raises(ValidationError):
        services.campaign_launch(campaign=campaign, user=manager)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_an_email_campaign_takes_a_link_longer_than_a_dlt_variable(org, manager):
    # DLT's 30-character limit is an SMS rule: email has no DLT template to match.
    from campaigns.models import Template

    template = Template.objects.create(
        org=org, name="Newsletter", channel="email", subject="News", body="Read it here: {#var#}"
    )
    long_link = "https://shop.acme.test/newsletters/2026/november/diwali-specials"
    campaign = create_campaign(template, manager, slot_values=[{"source": "url", "value": long_link}])
    assert campaign.slot_values[0]["value"] == long_link
