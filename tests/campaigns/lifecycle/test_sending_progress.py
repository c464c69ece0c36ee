"""A campaign's progress against its audience from the moment of launch: N of M prepared and handed to the gateway,
the rate and the time left, 100% only once it is true, "Sending took" only once finished; a small bar on the list;
in the embedded mode a launch answers before its messages are prepared."""

import threading
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle.selectors import sending_progress
from campaigns.models import Campaign
from campaigns.sending import tasks as sending_tasks
from delivery.models import Message
from delivery.reports.delivery_times import delivery_speed
from delivery.reports.selectors import delivery_counts
from linktrack.celery import background_threads
from tests.factories import create_campaign, make_customers
from tests.time_limit import within_seconds


def _launched_not_prepared(template, manager, django_capture_on_commit_callbacks, customers=10) -> Campaign:
    """Launched now, its dispatch task queued but not yet run."""
    from campaigns.lifecycle import services

    make_customers(template.org, customers)
    campaign = create_campaign(template, manager, name="Diwali")
    with django_capture_on_commit_callbacks(execute=False):
        services.campaign_launch(campaign=campaign, user=manager)
    campaign.refresh_from_db()
    return campaign


def _progress(campaign: Campaign, **kwargs):
    campaign.refresh_from_db()
    return sending_progress(campaign=campaign, counts=delivery_counts(campaign_id=campaign.pk), **kwargs)


def test_the_audience_size_is_known_from_the_launch_before_a_message_is_prepared(
    client, template, manager, django_capture_on_commit_callbacks
):
    # given a campaign to 10 customers just launched, nothing prepared yet
    campaign = _launched_not_prepared(template, manager, django_capture_on_commit_callbacks)

    # then its page says 0 of 10, at 0%, and why there is no rate yet
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert campaign.audience_size == 10 and campaign.status == Campaign.Status.DISPATCHING
    assert 'data-sending="prepared">0<' in page and 'data-sending="total">10<' in page
    assert 'data-sending="done_percent">0%<' in page and '<progress id="sending-bar" max="10" value="0"' in page
    assert "The rate shows once the first message is handed to the gateway." in page


def test_progress_is_100_only_once_every_message_is_handed_over(template, manager, django_capture_on_commit_callbacks):
    # given a launched campaign whose 10 messages were all handed over
    campaign = _launched_not_prepared(template, manager, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sending_tasks.campaign_dispatch_task(campaign.pk)
    assert _progress(campaign).done_percent == 100 and _progress(campaign).finished

    # when 4 are still waiting to be handed over: 60%, not finished
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[:4]).update(status=Message.Status.QUEUED)
    waiting = _progress(campaign)
    assert (waiting.done, waiting.total, waiting.done_percent, waiting.finished) == (6, 10, 60, False)
    assert waiting.bar_value == 6

    # when every one is handed over but the campaign is still preparing: 99%, never a full bar
    Message.objects.filter(pk__in=ids[:4]).update(status=Message.Status.SENT)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)
    almost = _progress(campaign)
    assert (almost.done_percent, almost.bar_value, almost.finished) == (99, 9, False)


def test_rate_and_time_left_come_from_the_counters(template, manager, django_capture_on_commit_callbacks):
    # given 10 prepared messages, 4 handed over in the 2 seconds since the first
    campaign = _launched_not_prepared(template, manager, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sending_tasks.campaign_dispatch_task(campaign.pk)
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[4:]).update(status=Message.Status.QUEUED)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHING)

    progress = _progress(campaign, first_sent_at=timezone.now() - timedelta(seconds=2))

    # then about 2 a second, and 6 left take about 3 s
    assert 1.8 <= progress.rate_per_second <= 2.0
    assert progress.seconds_left in (3, 4) and progress.time_left_words in ("3 s", "3.0 s", "4 s")


def test_sending_took_is_shown_only_once_finished(template, manager, django_capture_on_commit_callbacks):
    # given a campaign sent and delivered
    campaign = _launched_not_prepared(template, manager, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sending_tasks.campaign_dispatch_task(campaign.pk)
    Message.objects.filter(campaign=campaign).update(status=Message.Status.DELIVERED, finished_at=timezone.now())
    campaign.refresh_from_db()
    assert delivery_speed(campaign=campaign).send_duration is not None

    # when one message is still to be handed over, it has taken no time yet
    first = Message.objects.filter(campaign=campaign).order_by("pk").first()
    Message.objects.filter(pk=first.pk).update(status=Message.Status.QUEUED)
    assert delivery_speed(campaign=campaign).send_duration is None


def test_the_campaign_list_shows_a_small_bar_for_a_sending_campaign(
    client, template, manager, django_capture_on_commit_callbacks
):
    campaign = _launched_not_prepared(template, manager, django_capture_on_commit_callbacks)
    client.force_login(manager)

    page = client.get(reverse("campaigns:list")).content.decode()

    assert f'max="10" value="0" data-sending="{campaign.pk}"' in page


def test_in_the_embedded_mode_a_launch_answers_before_its_messages_are_prepared(
    transactional_db, client, template, manager, settings, monkeypatch
):
    # given the embedded mode's background threads, and a dispatch that waits until the test lets it go
    settings.TASKS_IN_BACKGROUND_THREAD = True
    go = threading.Event()
    real_dispatch = sending_tasks.campaign_dispatch

    def held_dispatch(**kwargs):
        assert go.wait(30)
        return real_dispatch(**kwargs)

    monkeypatch.setattr(sending_tasks, "campaign_dispatch", held_dispatch)
    make_customers(template.org, 50)
    campaign = create_campaign(template, manager, name="Diwali")
    client.force_login(manager)

    # when the manager confirms the launch
    with within_seconds(5):
        response = client.post(reverse("campaigns:launch", args=[campaign.pk]), {"when": "now", "confirmed": "1"})
        page = client.get(response["Location"]).content.decode()

    # then the page is there at once, knowing the audience, before a message is prepared
    assert 'data-sending="total">50<' in page and 'data-sending="done_percent">0%<' in page
    go.set()
    background_threads.wait()
    page = client.get(response["Location"]).content.decode()
    assert 'data-sending="done_percent">100%<' in page and 'data-sending="finished">Finished<' in page
