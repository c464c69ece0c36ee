"""The low-credit warning: set on the Credits page (CSRF-checked, its org only), emailed once to the org's campaign
managers when real dispatches take the balance below it, again only after a top-up above it and a new fall; the
campaign list shows a banner while the balance is below."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.base import clock
from campaigns.credits import alerts as credit_alerts
from campaigns.credits.alerts import credit_alerts_send
from campaigns.models import Org, User
from campaigns.sending.supervisor import campaigns_supervise
from campaigns.support.org_settings import org_credits_add
from tests.at_once import run_at_once
from tests.factories import PASSWORD, MembershipFactory, UserFactory, create_campaign
from tests.helpers import launch

BASE = "https://app.linktrack.test"


@pytest.fixture(autouse=True)
def _every_message_is_taken(settings):
    """Each message costs its segment for good: the gateway takes every one (nothing comes back at settling)."""
    settings.SIMULATED_GATEWAY_MIX = "delivered:100"
    settings.PUBLIC_BASE_URL = BASE + "/"


@pytest.fixture
def colleague(org) -> User:
    user = UserFactory(email="colleague@acme.test", password=PASSWORD)
    MembershipFactory(user=user, org=org)
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def set_warning(user, org: Org, below: str):
    return signed_in(user).post(reverse("campaigns:credits-alert", args=[org.pk]), {"credits_alert_below": below})


def send_to_all(template, manager, capture) -> None:
    """A campaign to the org's 10 customers, one segment each: 10 credits."""
    launch(create_campaign(template, manager), manager, capture)
    with capture(execute=True):
        campaigns_supervise()


def banner(user, org: Org) -> bool:
    return f'id="credits-low-{org.pk}"' in signed_in(user).get(reverse("campaigns:list")).content.decode()


def test_the_alert_goes_once_per_fall_and_again_only_after_a_top_up_above_it(
    org, manager, colleague, support, template, customers, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    # given a warning below 9,996 credits, set by the manager on the Credits page, and 10,000 credits
    assert set_warning(manager, org, "9996").status_code == 302
    assert credit_alerts_send() == 0 and not banner(manager, org)

    # when a campaign takes 10 of them, then both managers are emailed, once, and the list shows the banner
    send_to_all(template, manager, capture)
    assert Org.objects.get(pk=org.pk).credits == 9990
    assert credit_alerts_send() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["colleague@acme.test", "manager@acme.test"]
    assert mail.outbox[0].subject == "Acme Retail has 9,990 credits left, below 9,996"
    assert f"{BASE}/campaigns/credits/?org={org.pk}" in mail.outbox[0].body
    assert credit_alerts_send() == 0 and len(mail.outbox) == 2
    assert banner(manager, org)

    # when support adds too few to reach the level, then no new alert
    org_credits_add(org=org, amount=3, user=support)
    assert credit_alerts_send() == 0 and banner(manager, org)
    # when support adds enough, then no alert while above it, and no banner
    org_credits_add(org=org, amount=10, user=support)
    assert credit_alerts_send() == 0 and not banner(manager, org)

    # when a new campaign takes the balance below again, then a second alert, once
    send_to_all(template, manager, capture)
    assert Org.objects.get(pk=org.pk).credits == 9993
    assert credit_alerts_send() == 1 and credit_alerts_send() == 0
    assert len(mail.outbox) == 4 and banner(manager, org)


def test_a_top_up_then_a_new_fall_between_two_passes_still_alerts(org, manager, support, template, customers):
    # given an org alerted below 10,005 (it has 10,000)
    set_warning(manager, org, "10005")
    assert credit_alerts_send() == 1
    # when support tops it up above the level and a campaign takes it below again before the next pass
    org_credits_add(org=org, amount=10, user=support)
    Org.objects.filter(pk=org.pk).update(credits=10_000)  # as a campaign's reservation does
    # then the next pass alerts again
    assert credit_alerts_send() == 1 and len(mail.outbox) == 2


def test_two_workers_at_once_send_one_alert(postgres, transactional_db, org, manager):
    # given an org below its level
    Org.objects.filter(pk=org.pk).update(credits_alert_below=20_000)

    # when two passes run at the same moment on two database connections
    results = run_at_once(credit_alerts_send, credit_alerts_send)

    # then exactly one of them sent it
    assert sorted(results) == [0, 1]
    assert len(mail.outbox) == 1


def test_a_pass_that_read_the_org_before_another_sent_its_alert_sends_nothing(org, manager):
    # given two passes that both read the org as due (its alert never sent)
    Org.objects.filter(pk=org.pk).update(credits_alert_below=20_000)
    [(org_id, last)] = credit_alerts.orgs_to_alert().values_list("pk", "credits_alert_sent_at")
    moment = clock.now()
    # when both claim it, then only the first sends
    assert credit_alerts._org_alert_send(org_id=org_id, last=last, moment=moment) is True
    assert credit_alerts._org_alert_send(org_id=org_id, last=last, moment=moment) is False
    assert len(mail.outbox) == 1


def test_a_mail_server_that_refuses_leaves_the_alert_for_the_next_pass(org, manager, monkeypatch):
    Org.objects.filter(pk=org.pk).update(credits_alert_below=20_000)

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr("campaigns.credits.alerts.send_mail", refuse)
        assert credit_alerts_send() == 0
    assert credit_alerts_send() == 1 and len(mail.outbox) == 1


def test_the_warning_form_checks_its_number_and_empty_switches_it_off(org, manager):
    refused = set_warning(manager, org, "0")
    assert refused.status_code == 400
    assert "Give a number of credits from 1 to" in refused.content.decode()
    assert Org.objects.get(pk=org.pk).credits_alert_below is None

    saved = signed_in(manager).post(
        reverse("campaigns:credits-alert", args=[org.pk]), {"credits_alert_below": "20000"}, follow=True
    )
    [said] = [str(m) for m in saved.context["messages"]]
    assert "below 20,000. They are below it now (10,000): the email goes out within a few minutes." in said
    assert set_warning(manager, org, "").status_code == 302
    assert Org.objects.get(pk=org.pk).credits_alert_below is None


def test_the_warning_form_needs_its_csrf_token(org, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    url = reverse("campaigns:credits-alert", args=[org.pk])

    assert client.post(url, {"credits_alert_below": "500"}).status_code == 403
    assert Org.objects.get(pk=org.pk).credits_alert_below is None

    client.get(reverse("campaigns:credits"))
    token = client.cookies["csrftoken"].value
    assert client.post(url, {"credits_alert_below": "500", "csrfmiddlewaretoken": token}).status_code == 302
    assert Org.objects.get(pk=org.pk).credits_alert_below == 500


def test_another_orgs_warning_cannot_be_changed_but_support_can_change_any(org, other_org, manager, support):
    assert set_warning(manager, other_org, "500").status_code == 404
    assert Org.objects.get(pk=other_org.pk).credits_alert_below is None
    assert set_warning(support, other_org, "500").status_code == 302
    assert Org.objects.get(pk=other_org.pk).credits_alert_below == 500


def test_the_banner_is_for_the_managers_own_org_only(org, other_org, manager, outsider):
    Org.objects.filter(pk=other_org.pk).update(credits_alert_below=20_000)
    assert not banner(manager, org) and banner(outsider, other_org)
