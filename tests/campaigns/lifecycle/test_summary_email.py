"""The summary email of a finished campaign: sent once to who launched it, with the report's figures, and stopped by
its own link or the Notifications page."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from campaigns.accounts.notifications import stop_token_for, user_for_stop_token
from campaigns.lifecycle.summary_email import campaign_summaries_send
from campaigns.models import Campaign, Customer, User
from campaigns.sending.supervisor import campaigns_supervise
from delivery import reasons
from delivery.models import Message
from tests.at_once import run_at_once
from tests.factories import PASSWORD, create_campaign, make_customers
from tests.helpers import launch

BASE = "https://app.linktrack.test"
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari"


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PUBLIC_BASE_URL = BASE + "/"
    settings.SIMULATED_GATEWAY_MIX = "delivered:60,undeliverable:25,dlt_template:15"


def supervise(capture) -> None:
    """A supervisor pass: settles the credits of campaigns that handed everything over (and starts due runs)."""
    with capture(execute=True):
        campaigns_supervise()


def sent_campaign(template, manager, capture, name="Diwali sale") -> Campaign:
    """A campaign to 12 customers, two of them unsubscribed and one without a valid number, sent for real through
    the simulated gateway (receipts included) and settled."""
    customers = make_customers(template.org, 12)
    Customer.objects.filter(pk__in=[c.pk for c in customers[:2]]).update(sms_subscribed=False)
    Customer.objects.filter(pk=customers[2].pk).update(mobile="12345")
    campaign = launch(create_campaign(template, manager, name=name), manager, capture)
    supervise(capture)
    return Campaign.objects.get(pk=campaign.pk)


def click(client, message: Message) -> None:
    code = re.search(r"/s/(\w+)", message.body).group(1)
    assert client.get(f"/s/{code}", HTTP_USER_AGENT=PHONE).status_code == 302


def test_a_finished_campaign_emails_who_launched_it_its_figures_reasons_clicks_and_links(
    template, manager, clock, client, django_capture_on_commit_callbacks
):
    # given a campaign handed to the gateway, its receipts in and settled, and two recipients who clicked (one twice)
    campaign = sent_campaign(template, manager, django_capture_on_commit_callbacks)
    assert campaign.credits_settled_at is not None
    messages = Message.objects.filter(campaign=campaign)
    by_status = Counter(messages.values_list("status", flat=True))
    assert by_status[Message.Status.SENT] == 0 and by_status[Message.Status.NOT_SENT] == 3
    delivered = list(messages.filter(status=Message.Status.DELIVERED).order_by("pk"))
    click(client, delivered[0])
    click(client, delivered[0])
    click(client, delivered[1])

    # when the summary pass runs
    assert campaign_summaries_send() == 1

    # then who launched it gets one email with the report's figures, in text and HTML
    [email] = mail.outbox
    assert email.to == [manager.email]
    assert email.subject.startswith("“Diwali sale” has finished:")
    html = email.alternatives[0][0]
    text = email.body
    n_delivered, n_failed = by_status[Message.Status.DELIVERED], by_status[Message.Status.NOT_DELIVERED]
    for expected in (
        "Messages: 12",
        f"Delivered: {n_delivered} ({round(100 * n_delivered / 12, 1)}%)",
        f"Not delivered: {n_failed} ({round(100 * n_failed / 12, 1)}%)",
        "Not sent: 3 (25.0%)",
        "Unknown: 0 (0.0%)",
        f"Clicks: 2 unique, 3 total; click rate {round(100 * 2 / n_delivered, 1)}% of delivered messages",
        "It was sent on 23 Nov 2026 12:00 (Asia/Kolkata).",
    ):
        assert expected in text
    assert f"<strong>{n_delivered}</strong></td><td>{round(100 * n_delivered / 12, 1)}%" in html
    # the three most common reasons of not sent and not delivered, in the catalogue's words
    failed = Counter(
        messages.filter(status__in=[Message.Status.NOT_SENT, Message.Status.NOT_DELIVERED]).values_list(
            "reason_code", flat=True
        )
    )
    top = sorted(failed.items(), key=lambda item: (-item[1], item[0]))[:3]
    listed = re.findall(r"^- (.+) \((?:not sent|not delivered)\): (\d+)$", text, flags=re.M)
    assert [(title, int(count)) for title, count in listed] == [(reasons.REASONS[c].title, n) for c, n in top]
    assert "Customer unsubscribed" in html
    # links absolute on PUBLIC_BASE_URL: the campaign page, View Details, and a way to stop these emails
    page = BASE + reverse("campaigns:detail", args=[campaign.pk])
    assert f"Campaign page: {page}" in text and f'href="{page}"' in html
    details = BASE + reverse("delivery:details", args=[campaign.pk, "not_sent"])
    assert f"View Details (not sent): {details}" in text and f'href="{details}"' in html
    stop = BASE + reverse("notifications:stop", args=[stop_token_for(user=manager)])
    assert stop in text and email.extra_headers["List-Unsubscribe"] == f"<{stop}>"
    # and no recipient's number
    for recipient in messages.values_list("recipient", flat=True):
        assert recipient[-8:] not in text and recipient[-8:] not in html


def test_no_email_before_a_campaign_finished_then_one_once_its_receipts_stop_coming(
    template, manager, clock, settings, django_capture_on_commit_callbacks
):
    # given a campaign still sending (not settled) and one settled whose receipts have not come yet
    make_customers(template.org, 4)
    sending = create_campaign(template, manager, name="Still sending")
    Campaign.objects.filter(pk=sending.pk).update(status=Campaign.Status.DISPATCHING)
    settings.SIMULATED_GATEWAY_MIX = "no_receipt:1"
    waiting = launch(create_campaign(template, manager, name="Waiting"), manager, django_capture_on_commit_callbacks)
    supervise(django_capture_on_commit_callbacks)
    assert Campaign.objects.get(pk=waiting.pk).credits_settled_at is not None

    # when the summary pass runs at once, then 15 minutes later (receipts mostly come within minutes)
    clock.moment += timedelta(minutes=14)
    assert campaign_summaries_send() == 0
    clock.moment += timedelta(minutes=2)
    assert campaign_summaries_send() == 1

    # then only the settled campaign is summarised, saying its messages still wait for a receipt
    [email] = mail.outbox
    assert "“Waiting” has finished" in email.subject
    assert "Not delivered: 4 (100.0%), 4 of them still waiting for a receipt" in email.body
    assert "after 72 hours without one they stay not delivered" in email.body
    assert Campaign.objects.get(pk=sending.pk).summary_sent_at is None


def test_the_summary_is_sent_once_however_often_the_pass_runs(
    template, manager, clock, django_capture_on_commit_callbacks
):
    sent_campaign(template, manager, django_capture_on_commit_callbacks)

    first, again = campaign_summaries_send(), campaign_summaries_send()
    clock.moment += timedelta(hours=1)
    later = campaign_summaries_send()

    assert (first, again, later) == (1, 0, 0)
    assert len(mail.outbox) == 1


def test_two_workers_at_once_send_one_summary(
    postgres, transactional_db, template, manager, clock, django_capture_on_commit_callbacks
):
    # given a finished campaign
    sent_campaign(template, manager, django_capture_on_commit_callbacks)

    # when two passes run at the same moment on two database connections
    results = run_at_once(campaign_summaries_send, campaign_summaries_send)

    # then exactly one of them sent it
    assert sorted(results) == [0, 1]
    assert len(mail.outbox) == 1


def test_no_summary_for_who_turned_them_off_not_even_after_turning_them_on_again(
    template, manager, clock, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=manager.pk).update(campaign_summary_emails=False)
    campaign = sent_campaign(template, manager, django_capture_on_commit_callbacks)

    assert campaign_summaries_send() == 0
    User.objects.filter(pk=manager.pk).update(campaign_summary_emails=True)
    assert campaign_summaries_send() == 0

    assert mail.outbox == []
    assert Campaign.objects.get(pk=campaign.pk).summary_sent_at is not None  # decided: never sent later


def test_a_recurring_campaign_gets_at_most_one_summary_a_day_with_the_runs_since_the_last(
    template, manager, clock, django_capture_on_commit_callbacks
):
    # given an hourly recurring campaign
    make_customers(template.org, 3)
    parent = create_campaign(template, manager, name="Hourly", kind=Campaign.Kind.RECURRING, schedule="0 * * * *")
    launch(parent, manager, django_capture_on_commit_callbacks)

    def run_at(*moment) -> int:
        clock.set(*moment)
        supervise(django_capture_on_commit_callbacks)  # starts the run
        supervise(django_capture_on_commit_callbacks)  # settles it
        return campaign_summaries_send()

    # when runs finish at 13:00 and 14:00, and at midnight the next day
    sent = [run_at(2026, 11, 23, 13, 0, 5), run_at(2026, 11, 23, 14, 0, 5), run_at(2026, 11, 24, 0, 0, 5)]

    # then the first run is summarised at once, the second waits for the next day's email with the third
    assert sent == [1, 0, 1]
    first, second = mail.outbox
    runs = list(parent.runs.order_by("pk"))
    assert len(runs) == 3
    assert "“Hourly”: 1 run finished" in first.subject and runs[0].name in first.body
    assert "“Hourly”: 2 runs finished" in second.subject
    assert runs[1].name in second.body and runs[2].name in second.body and runs[0].name not in second.body
    assert "Messages: 6" in second.body  # the two runs together
    assert all(email.to == [manager.email] for email in mail.outbox)


def test_the_stop_link_asks_first_and_turns_the_emails_off_only_on_the_button(manager):
    client = Client(enforce_csrf_checks=True)
    url = reverse("notifications:stop", args=[stop_token_for(user=manager)])

    page = client.get(url)  # what a mail scanner prefetching the link does

    assert page.status_code == 200
    assert "Stop campaign summary emails to ma*****@acme.test?" in page.content.decode()
    assert User.objects.get(pk=manager.pk).campaign_summary_emails is True

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    done = client.post(url, {"csrfmiddlewaretoken": token})

    assert done.status_code == 200 and "Summary emails stopped" in done.content.decode()
    assert User.objects.get(pk=manager.pk).campaign_summary_emails is False


def test_a_mail_apps_one_click_unsubscribe_turns_them_off_without_a_csrf_token(manager):
    url = reverse("notifications:stop", args=[stop_token_for(user=manager)])

    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert User.objects.get(pk=manager.pk).campaign_summary_emails is False


def test_every_email_to_a_user_carries_the_same_stop_link_whenever_it_is_sent(manager, monkeypatch):
    first = stop_token_for(user=manager)
    monkeypatch.setattr(signing.time, "time", lambda: 4_102_444_800.0)  # years later, for any clock in the signer

    assert stop_token_for(user=manager) == first
    assert user_for_stop_token(token=first) == manager


def test_a_forged_or_altered_stop_link_is_refused_in_words_and_changes_nothing(manager):
    forged = stop_token_for(user=manager)[:-2] + "xx"
    client = Client(enforce_csrf_checks=True)

    page = client.get(reverse("notifications:stop", args=[forged]))
    posted = client.post(reverse("notifications:stop", args=[forged]), {"List-Unsubscribe": "One-Click"})

    assert page.status_code == 404 and posted.status_code == 404
    assert "This link does not work" in page.content.decode()
    assert User.objects.get(pk=manager.pk).campaign_summary_emails is True


def test_the_notifications_page_from_the_header_turns_summaries_off_and_on(client, manager):
    assert client.get(reverse("notifications:settings")).status_code == 302  # signed in only
    client.post(reverse("login"), {"username": manager.email, "password": PASSWORD})
    assert f'href="{reverse("notifications:settings")}"' in client.get(reverse("campaigns:list")).content.decode()

    client.post(reverse("notifications:settings"), {})
    assert User.objects.get(pk=manager.pk).campaign_summary_emails is False
    page = client.post(reverse("notifications:settings"), {"campaign_summary_emails": "on"}, follow=True)

    assert User.objects.get(pk=manager.pk).campaign_summary_emails is True
    assert "You will get a summary email when a campaign you launched has finished." in page.content.decode()
