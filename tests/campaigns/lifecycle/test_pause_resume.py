"""Pause, resume and cancel; redelivered tasks; recovery after a dead worker; auto-pause; credits given back."""

from datetime import timedelta

import pytest
from django.urls import reverse

from campaigns.base import clock
from campaigns.models import Campaign, Org
from campaigns.sending import dispatch
from campaigns.sending.dispatch import campaign_dispatch
from campaigns.sending.supervisor import campaigns_supervise
from delivery.models import Message
from delivery.tasks import messages_send_task
from tests.factories import create_campaign, make_customers
from tests.helpers import launch


def prepared(template, manager, count=10) -> Campaign:
    """A campaign whose messages are prepared and queued, none handed to the gateway yet."""
    make_customers(template.org, count)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING, launched_at=clock.now())
    campaign_dispatch(campaign_id=campaign.pk)  # send tasks wait for a commit that never comes in this test
    campaign.refresh_from_db()
    return campaign


def handed_over(campaign) -> int:
    return Message.objects.filter(campaign=campaign).exclude(gateway_message_id="").count()


def test_manager_pauses_and_resumes_a_campaign_which_continues_where_it_stopped(
    client, template, manager, django_capture_on_commit_callbacks
):
    # given a campaign with 3 messages handed over and 7 still queued
    campaign = prepared(template, manager)
    first = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True)[:3])
    with django_capture_on_commit_callbacks(execute=True):
        messages_send_task(first)
    credits_before = Org.objects.get(pk=template.org_id).credits
    client.force_login(manager)

    # when the manager pauses it
    response = client.post(reverse("campaigns:pause", args=[campaign.pk]))

    # then the queued messages are withdrawn and their credits given back; the page says who paused it
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert Message.objects.filter(campaign=campaign).count() == 3
    assert Org.objects.get(pk=template.org_id).credits == credits_before + 7
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert f"Paused by {manager.email}." in page and reverse("campaigns:resume", args=[campaign.pk]) in page

    # when resumed, the 7 others are prepared and sent; the first 3 are not sent again
    gateway_ids = dict(Message.objects.filter(pk__in=first).values_list("pk", "gateway_message_id"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("campaigns:resume", args=[campaign.pk]))
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
    assert handed_over(campaign) == 10
    assert dict(Message.objects.filter(pk__in=first).values_list("pk", "gateway_message_id")) == gateway_ids
    assert Message.objects.filter(campaign=campaign).values("customer").distinct().count() == 10


def test_pausing_between_batches_stops_the_dispatcher(template, manager, settings, monkeypatch):
    # given batches of 4 and a pause arriving after the first batch
    settings.DISPATCH_BATCH_SIZE = 4
    make_customers(template.org, 10)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING, launched_at=clock.now())
    real_batch = dispatch.Dispatcher._dispatch_batch

    def batch_then_pause(self, customers):
        done = real_batch(self, customers)
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PAUSED)
        return done

    monkeypatch.setattr(dispatch.Dispatcher, "_dispatch_batch", batch_then_pause)

    # when dispatched, then only the first batch is prepared
    campaign_dispatch(campaign_id=campaign.pk)
    assert Message.objects.filter(campaign=campaign).count() == 4
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED


def test_cancel_marks_what_was_not_handed_over_and_gives_credits_back(client, template, manager):
    campaign = prepared(template, manager)
    credits_before = Org.objects.get(pk=template.org_id).credits
    client.force_login(manager)

    client.post(reverse("campaigns:cancel", args=[campaign.pk]))

    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.CANCELLED
    assert Message.objects.filter(campaign=campaign, reason_code="campaign_cancelled").count() == 10
    assert Org.objects.get(pk=template.org_id).credits == credits_before + 10
    messages_send_task(list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True)))
    assert handed_over(campaign) == 0


def test_pause_resume_cancel_are_post_only_and_org_scoped(client, template, manager, outsider):
    campaign = prepared(template, manager)
    client.force_login(outsider)
    for name in ("pause", "resume", "cancel"):
        assert client.post(reverse(f"campaigns:{name}", args=[campaign.pk])).status_code == 404
    client.force_login(manager)
    assert client.get(reverse("campaigns:pause", args=[campaign.pk])).status_code == 405
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED


def test_pause_needs_a_csrf_token(template, manager):
    from django.test import Client

    campaign = prepared(template, manager)
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.post(reverse("campaigns:pause", args=[campaign.pk])).status_code == 403


def test_a_redelivered_send_task_sends_nothing_twice(template, manager, django_capture_on_commit_callbacks):
    # given a send task that ran once
    campaign = prepared(template, manager)
    ids = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_send_task(ids) == 10
    before = dict(Message.objects.filter(campaign=campaign).values_list("pk", "gateway_message_id"))

    # when the broker delivers it again (and the dispatch task too)
    assert messages_send_task(ids) == 0
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)
    campaign_dispatch(campaign_id=campaign.pk)

    # then no message is handed over again and no message is added
    assert dict(Message.objects.filter(campaign=campaign).values_list("pk", "gateway_message_id")) == before


def test_supervisor_restarts_a_dispatch_whose_worker_died(
    template, manager, clock, settings, django_capture_on_commit_callbacks
):
    # given a campaign marked sending whose dispatcher has been silent for longer than the limit
    settings.DISPATCH_STALE_SECONDS = 60
    make_customers(template.org, 5)
    campaign = create_campaign(template, manager)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.DISPATCHING, launched_at=clock.moment, heartbeat_at=clock.moment - timedelta(minutes=5)
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = campaigns_supervise()

    assert result["restarted"] == 1
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
    assert handed_over(campaign) == 5


def test_lost_send_tasks_are_queued_again(template, manager, clock, settings, django_capture_on_commit_callbacks):
    settings.QUEUED_STALE_SECONDS = 60
    campaign = prepared(template, manager)
    Message.objects.filter(campaign=campaign).update(created_at=clock.moment - timedelta(minutes=2))

    with django_capture_on_commit_callbacks(execute=True):
        result = campaigns_supervise()

    assert result["requeued"] == 10 and handed_over(campaign) == 10


def test_messages_stuck_submitting_are_recovered_once_without_a_second_send(
    template, manager, clock, settings, django_capture_on_commit_callbacks
):
    # given 4 messages a dead worker left "submitting" (claimed, never recorded)
    settings.SUBMITTING_STALE_SECONDS = 60
    campaign = prepared(template, manager)
    stuck = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True)[:4])
    Message.objects.filter(pk__in=stuck).update(status=Message.Status.SUBMITTING)

    # when the supervisor sees them twice, more than the limit apart
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns_supervise()["recovered"] == 0
    clock.moment += timedelta(seconds=61)
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns_supervise()["recovered"] == 4

    # then (the simulated gateway de-duplicates by message id) they are queued again and sent, each once, and each
    # one's gateway log shows both hand-overs: the one cut off, then the one answered
    recovered = Message.objects.filter(pk__in=stuck)
    assert all(m.gateway_message_id == f"sim-t-{m.pk}" for m in recovered)
    for message in recovered:
        cut_off, answered = message.exchanges.filter(operation="submit").order_by("pk")
        assert cut_off.error.startswith("hand-over cut off") and "handed over again" in cut_off.error
        assert answered.response.startswith("accepted as sim-t-") and not answered.error


def test_messages_stuck_submitting_on_a_gateway_without_deduplication_end_as_unknown_handover(
    template, manager, clock, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from campaigns.sending import supervisor

    settings.SUBMITTING_STALE_SECONDS = 60
    monkeypatch.setattr(supervisor, "_gateway_deduplicates", lambda gateway: False)
    campaign = prepared(template, manager)
    stuck = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True)[:2])
    Message.objects.filter(pk__in=stuck).update(status=Message.Status.SUBMITTING)

    campaigns_supervise()
    clock.moment += timedelta(seconds=61)
    campaigns_supervise()

    recovered = set(Message.objects.filter(pk__in=stuck).values_list("status", "reason_code"))
    assert recovered == {(Message.Status.UNKNOWN, "handover_cut_off")}


def test_campaign_pauses_itself_when_the_gateway_error_rate_passes_the_limit(
    client, template, manager, settings, clock
):
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

    # when the supervisor passes
    assert campaigns_supervise()["paused"] == 1

    # then the campaign is paused, the 10 queued ones withdrawn, and the page says why
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert "refused 20 of the last 30 messages (67%" in campaign.hold_reason
    assert Message.objects.filter(campaign=campaign, status=Message.Status.QUEUED).count() == 0
    client.force_login(manager)
    assert "Paused automatically" in client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()


def test_low_error_rate_does_not_pause(template, manager, settings, clock):
    settings.AUTO_PAUSE_MIN_MESSAGES = 5
    campaign = prepared(template, manager, count=20)
    ids = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[:1]).update(
        status=Message.Status.NOT_SENT, reason_code="gateway_timeout", finished_at=clock.moment
    )
    Message.objects.filter(pk__in=ids[1:10]).update(status=Message.Status.SENT, sent_at=clock.moment)

    assert campaigns_supervise()["paused"] == 0


@pytest.fixture
def finished_with_refusals(template, manager, django_capture_on_commit_callbacks):
    make_customers(template.org, 10)
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    refused = list(Message.objects.filter(campaign=campaign).values_list("pk", flat=True)[:3])
    Message.objects.filter(pk__in=refused).update(
        status=Message.Status.NOT_SENT, reason_code="gateway_timeout", gateway_message_id=""
    )
    return campaign


def test_settling_gives_back_refused_credits_once(finished_with_refusals, template):
    credits = Org.objects.get(pk=template.org_id).credits

    campaigns_supervise()
    campaigns_supervise()

    assert Org.objects.get(pk=template.org_id).credits == credits + 3
    assert Campaign.objects.get(pk=finished_with_refusals.pk).credits_settled_at is not None
