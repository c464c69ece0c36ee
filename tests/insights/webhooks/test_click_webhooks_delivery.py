"""Click webhooks, delivery: each click by a person reaches the org's own endpoint, signed, at least once, in
batches, with backoff while it fails; beat runs the delivery."""

import socket
import time
from datetime import UTC, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Template
from delivery.models import Message
from insights.models import ClickWebhook
from insights.tasks import click_webhooks_deliver_task
from insights.webhooks import calls, webhook_setup
from insights.webhooks import deliveries as click_webhooks
from linktrack.celery import app as celery_app
from linktrack.models import Click
from tests.factories import dispatched_campaign
from tests.insights.webhooks.helpers import ANDROID, add_clicks, deliver, is_from_linktrack, make_due

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
PREVIEW_BOT = "WhatsApp/2.23.20.0 A"


# --- Delivery -------------------------------------------------------------------------------------------------


def test_new_clicks_by_people_are_posted_in_one_batch_signed_so_the_receiver_can_check_it(
    webhook, receiver, campaign, other_org
):
    # given two clicks by people, a link preview, and a click of another org
    human = add_clicks(campaign, 1, agent=ANDROID) + add_clicks(campaign, 1, agent=IPHONE, message=False)
    add_clicks(campaign, 1, agent=PREVIEW_BOT, bot=True)
    other_template = Template.objects.create(org=other_org, name="Other", body="Hi {#var#} - Other")
    add_clicks(dispatched_campaign(other_template, name="Other brand's sale"), 1)

    # when the webhook delivers
    sent = deliver(webhook)

    # then one signed POST carries the two human clicks of this org, oldest first
    assert sent == 2 and len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call.path == "/linktrack/clicks?source=linktrack"
    assert call.headers["Content-Type"] == "application/json"
    assert call.headers["User-Agent"] == "linktrack-webhooks"
    assert is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], webhook.secret)
    assert not is_from_linktrack(call.body + b" ", call.headers["X-Linktrack-Signature"], webhook.secret)
    first_message = Message.objects.get(pk=human[0].message_id)
    assert call.json == {
        "clicks": [
            {
                "id": human[0].pk,
                "clicked_at": human[0].clicked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "campaign_id": campaign.pk,
                "campaign_name": "Diwali sale",
                "channel": "sms",
                "link": "https://acme.test/sale",
                "recipient": first_message.recipient,
                "customer_external_id": first_message.customer.external_id,
                "device": "Android",
            },
            {
                "id": human[1].pk,
                "clicked_at": human[1].clicked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "campaign_id": campaign.pk,
                "campaign_name": "Diwali sale",
                "channel": "sms",
                "link": "https://acme.test/sale",
                "recipient": None,
                "customer_external_id": None,
                "device": "iPhone / iPad",
            },
        ]
    }
    # and the cursor moved past them: the next run sends nothing again
    assert webhook.last_click_id == human[1].pk and webhook.last_delivered_at is not None
    assert webhook.next_attempt_at is None and webhook.failures_in_a_row == 0
    assert deliver(webhook) == 0 and len(receiver.calls) == 1


def test_a_webhook_starts_with_the_clicks_after_it_was_set_up_never_the_history(org, manager, receiver, campaign):
    history = add_clicks(campaign, 3)

    webhook = webhook_setup.click_webhook_create(org=org, user=manager, url=receiver.url)
    assert webhook.last_click_id == history[-1].pk
    assert deliver(webhook) == 0 and receiver.calls == []

    new = add_clicks(campaign, 2)
    assert deliver(webhook) == 2 and receiver.calls[0].click_ids == [click.pk for click in new]


def test_a_backlog_goes_out_in_batches_a_few_per_run(webhook, receiver, campaign, monkeypatch):
    monkeypatch.setattr(click_webhooks, "BATCH_SIZE", 2)
    monkeypatch.setattr(click_webhooks, "MAX_BATCHES_PER_RUN", 2)
    clicks = [click.pk for click in add_clicks(campaign, 5)]

    assert deliver(webhook) == 4
    assert [call.click_ids for call in receiver.calls] == [clicks[0:2], clicks[2:4]]
    assert webhook.last_click_id == clicks[3] and webhook.next_attempt_at is None  # due again at the next tick

    assert deliver(webhook) == 1 and receiver.calls[2].click_ids == [clicks[4]]


def test_a_click_stored_moments_ago_waits_and_no_later_click_overtakes_it(webhook, receiver, campaign):
    # given a settled click, then one from just now, then a settled one stored after it (as a flush might)
    settled = add_clicks(campaign, 1)
    fresh = add_clicks(campaign, 1, ago=timedelta(0))
    later = add_clicks(campaign, 1)

    # then only the clicks before the fresh one go now
    assert deliver(webhook) == 1 and receiver.calls[0].click_ids == [settled[0].pk]
    assert webhook.last_click_id == settled[0].pk

    # and once it has settled, it goes with the one after it
    Click.objects.filter(pk=fresh[0].pk).update(clicked_at=timezone.now() - click_webhooks.CLICK_SETTLE)
    assert deliver(webhook) == 2 and receiver.calls[1].click_ids == [fresh[0].pk, later[0].pk]


def test_a_failed_batch_keeps_the_cursor_backs_off_and_the_same_clicks_go_again(webhook, receiver, campaign):
    # given a receiver that fails twice, then takes the clicks
    receiver.script = [("status", 500), ("status", 503), ("ok",)]
    clicks = [click.pk for click in add_clicks(campaign, 3)]
    cursor = webhook.last_click_id

    # when it fails
    before = timezone.now()
    assert deliver(webhook) == 0

    # then the cursor stays, the failure is in words and the next try is 30 s later
    assert webhook.last_click_id == cursor and webhook.failures_in_a_row == 1
    assert (
        webhook.last_error == "Your endpoint answered 500 Internal Server Error; only a 2xx answer counts as received."
    )
    assert before + timedelta(seconds=29) < webhook.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    # and nothing is tried before then
    assert deliver(webhook) == 0 and len(receiver.calls) == 1

    # when it is due again and fails again, the wait doubles
    make_due(webhook)
    deliver(webhook)
    assert webhook.failures_in_a_row == 2 and "503" in webhook.last_error
    assert webhook.next_attempt_at > timezone.now() + timedelta(seconds=55)

    # when it is due and the receiver takes them, the same clicks arrive with the same ids
    make_due(webhook)
    assert deliver(webhook) == 3
    assert [call.click_ids for call in receiver.calls] == [clicks, clicks, clicks]
    assert webhook.last_click_id == clicks[-1] and webhook.failures_in_a_row == 0 and webhook.failing_since is None
    assert webhook.next_attempt_at is None


def test_backoff_doubles_from_30_seconds_to_at_most_an_hour():
    waits = [click_webhooks.backoff(failures).total_seconds() for failures in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (("slow", 1.0), "No answer from 127.0.0.1 within 0.3 seconds."),
        (("garbage",), "127.0.0.1 answered something that is not HTTP"),
        (("redirect", "https://elsewhere.test/hook"), "a redirect to https://elsewhere.test/hook. Redirects are not"),
        (("status", 404), "Your endpoint answered 404 Not Found"),
    ],
)
def test_a_timeout_garbage_a_redirect_or_an_error_is_a_failure_retried_later(
    webhook, receiver, campaign, monkeypatch, answer, words
):
    monkeypatch.setattr(calls, "TIMEOUT_SECONDS", 0.3)
    receiver.script = [answer]
    add_clicks(campaign, 2)
    cursor = webhook.last_click_id

    assert deliver(webhook) == 0

    assert len(receiver.calls) == 1  # a redirect is not followed
    assert words in webhook.last_error
    assert webhook.last_click_id == cursor and webhook.failures_in_a_row == 1 and webhook.next_attempt_at


def test_an_endpoint_that_refuses_the_connection_is_a_failure_in_words(org, manager, campaign):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    webhook = webhook_setup.click_webhook_create(org=org, user=manager, url=f"http://127.0.0.1:{port}/hook")
    add_clicks(campaign, 1)

    assert deliver(webhook) == 0

    assert webhook.last_error.startswith("Could not connect to 127.0.0.1: Connection refused")
    assert webhook.failures_in_a_row == 1


def test_after_24_hours_of_failures_it_stops_says_why_and_resumes_from_its_cursor(
    client, manager, webhook, receiver, campaign
):
    # given a webhook failing for a day
    receiver.script = [("status", 502)]
    missed = [click.pk for click in add_clicks(campaign, 2)]
    cursor = webhook.last_click_id
    ClickWebhook.objects.filter(pk=webhook.pk).update(
        failures_in_a_row=29, failing_since=timezone.now() - timedelta(hours=24, seconds=1)
    )

    # when it fails once more
    deliver(webhook)

    # then it stops, says why on the page, and keeps its cursor
    assert not webhook.is_active and webhook.last_click_id == cursor
    assert "every delivery failed for 24 hours (30 attempts)" in webhook.stopped_reason
    assert "502 Bad Gateway" in webhook.stopped_reason
    client.force_login(manager)
    page = client.get(reverse("insights:webhooks")).content.decode()
    assert "Not delivering." in page and "every delivery failed for 24 hours" in page
    # and nothing more is sent while it is stopped
    make_due(webhook)
    click_webhooks_deliver_task.delay()
    assert len(receiver.calls) == 1

    # when the receiver is fixed and a manager resumes it
    receiver.script = [("ok",)]
    later = [click.pk for click in add_clicks(campaign, 1)]
    client.post(reverse("insights:webhook-resume", args=[webhook.pk]))

    # then the clicks it missed go first, with the ones since
    assert deliver(webhook) == 3
    assert receiver.calls[-1].click_ids == missed + later
    assert webhook.is_active and webhook.failures_in_a_row == 0 and webhook.stopped_reason == ""


def test_a_paused_webhook_sends_nothing_and_resuming_sends_what_came_meanwhile(
    client, manager, webhook, receiver, campaign
):
    client.force_login(manager)
    response = client.post(reverse("insights:webhook-pause", args=[webhook.pk]), follow=True)
    assert "Paused: no clicks go to" in response.content.decode()
    clicks = [click.pk for click in add_clicks(campaign, 2)]

    assert deliver(webhook) == 0 and receiver.calls == []
    assert webhook.stopped_reason.startswith("Paused by manager@acme.test")

    client.post(reverse("insights:webhook-resume", args=[webhook.pk]))
    assert deliver(webhook) == 2 and receiver.calls[0].click_ids == clicks


def test_a_run_holds_its_webhook_so_a_second_run_sends_nothing(webhook, receiver, campaign):
    add_clicks(campaign, 1)
    held = click_webhooks._claim(webhook.pk)

    assert held is not None and held.next_attempt_at > timezone.now()
    assert click_webhooks._claim(webhook.pk) is None
    assert deliver(webhook) == 0 and receiver.calls == []


@pytest.mark.django_db(transaction=True)
def test_a_claimed_row_is_skipped_not_waited_for_on_postgresql(postgres, webhook):
    # given another transaction holding the webhook's row (committed rows: another connection must see it)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM insights_clickwebhook WHERE id = %s FOR UPDATE", [webhook.pk])
            # when this run tries to claim it, it does not wait: it leaves it to the holder
            started = time.monotonic()
            assert click_webhooks._claim(webhook.pk) is None
            assert time.monotonic() - started < 2
            cursor.execute("ROLLBACK")
    finally:
        other.close()


def test_a_delivery_run_costs_the_same_queries_for_3_clicks_as_for_300(webhook, campaign):
    def queries_for(count: int) -> list[str]:
        add_clicks(campaign, count)
        make_due(webhook)
        with CaptureQueriesContext(connection) as captured:
            assert click_webhooks.click_webhook_deliver(webhook_id=webhook.pk) == count
        return [query["sql"] for query in captured.captured_queries]

    few, many = queries_for(3), queries_for(300)

    # claim (a savepoint, the locked read, the lease), the clicks, the cursor
    assert len(few) == len(many) == 6


# --- Beat and Celery ------------------------------------------------------------------------------------------


def test_beat_runs_the_delivery_every_30_seconds():
    entry = django_settings.CELERY_BEAT_SCHEDULE["click-webhooks-deliver"]
    assert entry == {"task": "insights.tasks.click_webhooks_deliver_task", "schedule": 30.0}
    assert entry["task"] in celery_app.tasks


def test_the_periodic_task_delivers_every_due_webhook_through_celery(
    org, other_org, manager, outsider, receiver, campaign, template
):
    # given two orgs' webhooks with new clicks, and one that is waiting out a backoff
    ours = webhook_setup.click_webhook_create(org=org, user=manager, url=receiver.url)
    theirs = webhook_setup.click_webhook_create(org=other_org, user=outsider, url=receiver.url + "&org=other")
    other_template = Template.objects.create(org=other_org, name="Other", body="Hi {#var#} - Other")
    add_clicks(campaign, 2)
    add_clicks(dispatched_campaign(other_template, name="Other brand's sale"), 1)
    ClickWebhook.objects.filter(pk=theirs.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    # when beat's task runs (in-process, as tests run tasks)
    queued = click_webhooks_deliver_task.delay().get()

    # then the due webhook delivered, the waiting one did not
    assert queued == 1
    assert [len(call.click_ids) for call in receiver.calls] == [2]
    ours.refresh_from_db()
    assert ours.last_delivered_at is not None
