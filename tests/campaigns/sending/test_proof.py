"""Send a test (a proof) of a draft campaign: the real message, tracked links, credits, gateway; in no report."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle import services as campaign_services
from campaigns.lifecycle.selectors import campaign_summaries
from campaigns.models import Campaign, CampaignEvent, Customer, Org, Template, User
from campaigns.sending import test_hand_over
from campaigns.sending import test_sends as proofs
from campaigns.sending.rules import capped_customers
from campaigns.sending.supervisor import campaigns_supervise
from campaigns.sending.test_hand_over import proof_credits_settle
from campaigns.sending.test_sends import ProofRefused, proof_recipients_parse, proof_send
from delivery.gateways.base import Receipt
from delivery.models import GatewayExchange, Message, Proof
from delivery.reports.selectors import delivery_counts, messages_by_campaign
from delivery.services import receipts_apply
from insights.compare.comparison import campaigns_compare
from insights.reports.click_export import campaign_click_rows
from insights.reports.selectors import campaign_insights
from linktrack.counts.click_counts import click_counts, click_counts_by_campaign
from linktrack.models import Click
from tests.factories import PASSWORD, http_config, make_customers
from tests.helpers import launch

SLOTS = [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/sale"}]
MY_NUMBER = "+919810000001"  # also the number of the first customer of make_customers


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """proof_send as the preview calls it: the hand-over task runs (in-process here) once the test is committed."""

    def send(**kwargs) -> Proof:
        with django_capture_on_commit_callbacks(execute=True):
            proof = proof_send(**kwargs)
        proof.refresh_from_db()
        return proof

    return send


def _draft(template: Template, manager, slot_values=None) -> Campaign:
    return campaign_services.campaign_create(
        org=template.org, user=manager, name="Diwali", template=template, slot_values=slot_values or SLOTS
    )


def _tap(client, body: str):
    """Open the short link a message carries, as the phone would."""
    short = next(word for word in body.split() if "/s/" in word)
    return client.get(urlsplit(short if "://" in short else f"http://{short}").path, HTTP_USER_AGENT="Mozilla/5.0")


def _report(campaign: Campaign) -> dict:
    org = campaign.org
    comparison = campaigns_compare(campaigns=[campaign])[0]
    return {
        "counts": delivery_counts(campaign_id=campaign.pk),
        "by_campaign": messages_by_campaign(campaign_ids=[campaign.pk]),
        "summary": campaign_summaries(campaigns=[campaign])[campaign.pk],
        "clicks": click_counts(campaign_id=campaign.pk),
        "org_clicks": click_counts_by_campaign(org_id=org.pk),
        "insights": [(i.name, i.delivered, i.clicks) for i in campaign_insights(org_id=org.pk)],
        "compare": (comparison.messages, comparison.clicks),
        "export": list(campaign_click_rows(campaign)),
    }


def test_recipients_are_read_as_e164_and_a_bad_one_is_refused_by_name():
    assert proof_recipients_parse(channel="sms", text="98100 00001,\n+91 98100-00002") == [MY_NUMBER, "+919810000002"]
    with pytest.raises(ProofRefused, match="'12345' is too short"):
        proof_recipients_parse(channel="sms", text="9810000001, 12345")
    with pytest.raises(ProofRefused, match="at most 5 recipients; you entered 6"):
        proof_recipients_parse(channel="sms", text=",".join(f"98100000{n:02d}" for n in range(6)))
    with pytest.raises(ProofRefused, match="'asha@' is not an email address"):
        proof_recipients_parse(channel="email", text="raj@acme.in; asha@")


def test_a_proof_is_the_real_message_whose_short_link_redirects_and_costs_its_segments(
    client, org, template, manager, customers, send, settings
):
    # given a draft whose link is tracked, the org's credits, and a gateway that delivers
    settings.SIMULATED_GATEWAY_MIX = "delivered:100"
    campaign = _draft(template, manager)
    credits = Org.objects.get(pk=org.pk).credits
    # when a test is sent to the manager's own number
    proof = send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    # then it went out as dispatch renders it: the first customer's name, a short link of its own, the DLT check passed
    message = Message.with_proofs.get(proof=proof)
    assert message.body.startswith("Hi Customer 1, your order has shipped. Track it: ")
    assert "acme.test" not in message.body
    assert message.sent_at and message.gateway_message_id
    assert GatewayExchange.objects.filter(message=message, operation="submit").exists()
    assert Org.objects.get(pk=org.pk).credits == credits - message.segments == credits - proof.credits
    # and its short link leads to the campaign's destination, found in the database as well as in the cache
    cache.clear()
    response = _tap(client, message.body)
    assert response.status_code == 302 and response["Location"].startswith("https://acme.test/sale")
    # and the gateway's delivery receipt came back to it like any message's
    assert message.status == Message.Status.DELIVERED
    # and the history says who tested it
    event = CampaignEvent.objects.get(campaign=campaign, kind="proof_sent")
    assert event.user == manager and event.detail == "to 1 recipient"


def test_report_figures_are_unchanged_by_a_proof_and_its_click(
    client, org, template, manager, customers, django_capture_on_commit_callbacks, send
):
    # given a draft campaign to 10 customers, the first of them with the manager's own number
    campaign = _draft(template, manager)
    before = _report(campaign)
    # when a test is sent to that number and its link is tapped
    proof = send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    assert _tap(client, Message.with_proofs.get(proof=proof).body).status_code == 302
    message = Message.with_proofs.get(proof=proof)
    receipts_apply(receipts=[Receipt(message.gateway_message_id, "delivered")], org_id=org.pk)
    # then nothing of the report moved
    assert _report(campaign) == before
    # when the campaign is launched
    launch(campaign, manager, django_capture_on_commit_callbacks)
    # then every customer got their message, the manager's number included, and only those count
    assert delivery_counts(campaign_id=campaign.pk).total == 10
    assert Message.objects.filter(campaign=campaign, recipient=MY_NUMBER).count() == 1
    assert messages_by_campaign(campaign_ids=[campaign.pk])[campaign.pk][0] == 10
    assert campaign_summaries(campaigns=[campaign])[campaign.pk].messages == 10
    assert Campaign.objects.get(pk=campaign.pk).credits_charged == 10
    # and a customer's click counts while the proof's does not
    assert click_counts(campaign_id=campaign.pk).total == 0
    _tap(client, Message.objects.filter(campaign=campaign).order_by("pk").first().body)
    assert (click_counts(campaign_id=campaign.pk).unique, click_counts(campaign_id=campaign.pk).total) == (1, 1)
    assert Click.objects.filter(campaign=campaign).count() == 1
    assert len(list(campaign_click_rows(campaign))) == 1


def test_proofs_never_count_against_the_frequency_cap(org, template, manager, customers, send):
    org.frequency_cap_messages, org.frequency_cap_days = 1, 7
    org.save(update_fields=["frequency_cap_messages", "frequency_cap_days"])
    email_template = Template.objects.create(org=org, name="Mail", channel="email", subject="Hi", body="Hi {#var#}")
    campaign = _draft(email_template, manager, [{"source": "text", "value": "there"}])
    send(campaign=campaign, user=manager, recipients=["customer1@acme.in"])
    other = _draft(email_template, manager, [{"source": "text", "value": "again"}])
    assert (
        capped_customers(org=org, campaign_id=other.pk, channel="email", customer_ids=[c.pk for c in customers])
        == set()
    )


def test_a_message_that_breaks_its_dlt_template_is_refused_in_words_and_nothing_is_sent(org, template, manager, send):
    # given a draft whose first customer's name is longer than a DLT variable allows
    make_customers(org, 1)
    Customer.objects.update(name="x" * 31)
    campaign = _draft(template, manager)
    credits = Org.objects.get(pk=org.pk).credits
    with pytest.raises(
        ProofRefused, match=r"Not sent \(Message does not match its DLT template\): Variable 1 \('x{31}'\)"
    ):
        send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    assert not Proof.objects.exists() and not Message.with_proofs.exists()
    assert Org.objects.get(pk=org.pk).credits == credits


def test_an_org_without_credits_is_refused_and_the_hourly_limit_holds(org, template, manager, settings, send):
    campaign = _draft(template, manager)
    Org.objects.filter(pk=org.pk).update(credits=1)
    with pytest.raises(ProofRefused, match=r"needs 2 credits \(one per segment\) and Acme Retail has 1 left"):
        send(campaign=campaign, user=manager, recipients=[MY_NUMBER, "+919810000002"])
    Org.objects.filter(pk=org.pk).update(credits=100)
    settings.PROOF_SENDS_PER_HOUR = 2
    Proof.objects.create(campaign=campaign, sent_by=manager, recipients=1, sent_at=timezone.now() - timedelta(hours=2))
    send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    with pytest.raises(ProofRefused, match="sent 2 tests in the last hour, the most allowed"):
        send(campaign=campaign, user=manager, recipients=[MY_NUMBER])


def test_an_email_proof_goes_through_the_email_gateway_with_tracked_links(org, manager, settings, send):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    template = Template.objects.create(
        org=org, name="Mail", channel="email", subject="Sale {#var#}", body="Shop at {#var#}", html_body=""
    )
    campaign = _draft(template, manager, [{"source": "url", "value": "https://acme.test/mail"}])
    send(campaign=campaign, user=manager, recipients=["me@acme.in"])
    assert [m.to for m in mail.outbox] == [["me@acme.in"]]
    assert "acme.test/mail" not in mail.outbox[0].body and "/s/" in mail.outbox[0].body


def test_send_a_test_from_the_preview_through_the_http_gateway(
    client,
    org,
    template,
    manager,
    customers,
    http_gateway,
    django_capture_on_commit_callbacks,
):
    # given a manager on a draft's preview, the org's SMS going through an HTTP gateway
    http_config(org, http_gateway.url)
    campaign = _draft(template, manager)
    client.login(username=manager.email, password=PASSWORD)
    url = reverse("campaigns:proof-send", args=[campaign.pk])
    preview = reverse("campaigns:preview", args=[campaign.pk])
    # when they send a test to two numbers
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"recipients": "98100 00001\n9810000002"}, follow=True)
        # then the page answers before the gateway is asked (a worker hands the test over), saying so
        assert http_gateway.requests == []
        page = response.content.decode()
        assert "Test queued for +91 98XXXXXX01, +91 98XXXXXX02: it is being handed to the gateway." in page
        assert page.count('data-status="queued"') == 2
    # and once the worker ran, the gateway got both with the DLT ids, and the preview lists them as sent
    assert [r.json["to"] for r in http_gateway.requests] == [MY_NUMBER, "+919810000002"]
    assert http_gateway.requests[0].json["dlt_template_id"] == "1707160000000000001"
    page = client.get(preview).content.decode()
    assert page.count('data-status="sent"') == 2 and "+91 98XXXXXX02" in page
    history = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "<strong>Test sent</strong>: To 2 recipients</td><td>manager@acme.test" in history

    # when the gateway refuses the next test
    http_gateway.script = [("refuse", 400, "invalid_number")]
    credits = Org.objects.get(pk=org.pk).credits
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"recipients": "9810000003"})
    # then the preview says it was not sent and why, and its credit is given back
    refused = Message.with_proofs.get(recipient="+919810000003")
    assert refused.status == Message.Status.NOT_SENT and Proof.objects.get(pk=refused.proof_id).credits == 0
    assert Org.objects.get(pk=org.pk).credits == credits
    assert "Not sent: Skipped due to validation issues" in client.get(preview).content.decode()

    # when an entry is not a number, nothing is sent and the error names it next to the field, typed text kept
    response = client.post(url, {"recipients": "9810000004, 12345"})
    page = response.content.decode()
    assert response.status_code == 200 and "&#x27;12345&#x27; is too short for a phone number" in page
    assert "9810000004, 12345</textarea>" in page and len(http_gateway.requests) == 3


@pytest.mark.django_db(transaction=True)
def test_with_tasks_in_process_the_page_says_at_once_what_became_of_the_test(
    client,
    org,
    template,
    manager,
    http_gateway,
):
    # given the embedded set-up (tasks run in-process as soon as the test is saved) and an HTTP gateway
    http_config(org, http_gateway.url)
    campaign = _draft(template, manager)
    client.force_login(manager)
    url = reverse("campaigns:proof-send", args=[campaign.pk])
    # when a test goes to two numbers, the gateway refusing the second
    http_gateway.script = [("accept",), ("refuse", 400, "invalid_number")]
    page = client.post(url, {"recipients": "9810000001, 9810000002"}, follow=True).content.decode()
    # then the page says which was handed over and which was not, and why
    assert "Test handed to the gateway for +91 98XXXXXX01." in page
    assert "Test not sent to +91 98XXXXXX02: Skipped due to validation issues" in page
    assert "Test queued" not in page


def test_the_preview_lists_its_tests_in_the_same_queries_however_many(client, org, template, manager, customers, send):
    # given a draft with one test, then with three more
    campaign = _draft(template, manager)
    client.force_login(manager)
    url = reverse("campaigns:preview", args=[campaign.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    with_one = queries()
    for _ in range(3):
        send(campaign=campaign, user=manager, recipients=[MY_NUMBER, "+919810000002"])

    # when / then the page lists all seven messages, and the extra tests cost no query
    assert queries() == with_one
    assert client.get(url).content.decode().count("data-proof=") == 7


def test_support_staff_open_a_tests_gateway_log_from_the_preview(client, org, template, manager, support, send):
    campaign = _draft(template, manager)
    proof = send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    message = Message.with_proofs.get(proof=proof)
    log_url = reverse("delivery:message-log", args=[message.pk])
    client.force_login(manager)
    assert log_url not in client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    client.force_login(support)
    assert log_url in client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert "submit" in client.get(log_url).content.decode()


def test_only_the_orgs_members_and_staff_can_send_a_test_with_csrf(client, org, template, manager, outsider, support):
    campaign = _draft(template, manager)
    url = reverse("campaigns:proof-send", args=[campaign.pk])
    assert client.post(url, {"recipients": MY_NUMBER}).status_code == 302  # to sign in
    client.login(username=outsider.email, password=PASSWORD)
    assert client.post(url, {"recipients": MY_NUMBER}).status_code == 404
    client.login(username=support.email, password=PASSWORD)
    assert client.post(url, {"recipients": MY_NUMBER}).status_code == 302
    assert Proof.objects.get().sent_by == support
    client.logout()
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.login(username=manager.email, password=PASSWORD)
    assert strict.post(url, {"recipients": MY_NUMBER}).status_code == 403
    assert Proof.objects.count() == 1


def test_a_launched_campaign_cannot_be_tested(
    org, template, manager, customers, django_capture_on_commit_callbacks, send
):
    campaign = launch(_draft(template, manager), manager, django_capture_on_commit_callbacks)
    with pytest.raises(ProofRefused, match="only while the campaign is a draft"):
        send(campaign=campaign, user=manager, recipients=[MY_NUMBER])


def test_deleting_a_campaign_deletes_its_proofs(org, template, manager, send):
    campaign = _draft(template, manager)
    send(campaign=campaign, user=manager, recipients=[MY_NUMBER])
    Campaign.objects.filter(pk=campaign.pk).delete()
    assert not Message.with_proofs.exists() and not Proof.objects.exists()


def test_a_customer_with_the_number_of_a_proof_keeps_their_own_messages(org, template, manager, send):
    (customer,) = make_customers(org, 1)
    campaign = _draft(template, manager)
    send(campaign=campaign, user=manager, recipients=[customer.mobile])
    assert list(Customer.objects.get(pk=customer.pk).messages.all()) == []
    assert not Message.objects.filter(campaign=campaign).exists()


def test_the_supervisor_hands_over_a_lost_test_and_ends_one_whose_worker_died(org, template, manager, settings):
    # given two tests whose hand-over task never ran (lost with a worker): one queued, one claimed ("submitting")
    settings.SIMULATED_GATEWAY_MIX = "delivered:100"
    campaign = _draft(template, manager)
    credits = Org.objects.get(pk=org.pk).credits
    lost = proof_send(campaign=campaign, user=manager, recipients=[MY_NUMBER, "+919810000002"])
    died = proof_send(campaign=campaign, user=manager, recipients=["+919810000003"])
    Message.with_proofs.filter(proof=died).update(status=Message.Status.SUBMITTING)
    assert Org.objects.get(pk=org.pk).credits == credits - 3
    long_ago = timezone.now() - timedelta(seconds=settings.QUEUED_STALE_SECONDS + 1)

    # when the supervisor passes before they are old enough, it leaves them alone
    assert campaigns_supervise()["tests_recovered"] == 0
    Message.with_proofs.filter(proof__isnull=False).update(created_at=long_ago, updated_at=long_ago)
    # when it passes after
    assert campaigns_supervise()["tests_recovered"] == 3

    # then the queued test went to the gateway and the one cut off mid hand-over ends not sent (a second hand-over
    # could make a second SMS), its credit given back once however often it is settled
    assert set(Message.with_proofs.filter(proof=lost).values_list("status", flat=True)) == {"sent"}
    stuck = Message.with_proofs.get(proof=died)
    assert (stuck.status, stuck.reason_code) == (Message.Status.NOT_SENT, "gateway_bad_response")
    assert proof_credits_settle(proof_id=died.pk) == 0
    assert Org.objects.get(pk=org.pk).credits == credits - 2
    assert (Proof.objects.get(pk=lost.pk).credits, Proof.objects.get(pk=died.pk).credits) == (2, 0)
    assert campaigns_supervise()["tests_recovered"] == 0


def test_while_no_worker_runs_the_supervisor_queues_a_lost_test_once(org, template, manager, settings, monkeypatch):
    # given a test queued long ago whose task no worker takes
    proof = proof_send(campaign=_draft(template, manager), user=manager, recipients=[MY_NUMBER])
    Message.with_proofs.update(created_at=timezone.now() - timedelta(seconds=settings.QUEUED_STALE_SECONDS + 1))
    queued = []
    monkeypatch.setattr(proofs.proof_hand_over_task, "delay", queued.append)
    # when the supervisor passes three times
    counts = [campaigns_supervise()["tests_recovered"] for _ in range(3)]
    # then it queued the test's task once
    assert (counts, queued) == ([1, 0, 0], [proof.pk])


def test_a_test_whose_campaign_was_deleted_before_its_hand_over_is_let_go(org, template, manager):
    campaign = _draft(template, manager)
    proof = proof_send(campaign=campaign, user=manager, recipients=[MY_NUMBER])  # its task not run yet
    Campaign.objects.filter(pk=campaign.pk).delete()
    assert test_hand_over.proof_hand_over(proof_id=proof.pk) == 0


def test_the_message_admin_lists_tests_marked_as_such_and_filters_them(client, org, template, manager, send):
    # given a campaign message and a test
    campaign = _draft(template, manager)
    proof = send(campaign=campaign, user=manager, recipients=["+919810000009"])
    test = Message.with_proofs.get(proof=proof)
    Message.objects.create(campaign=campaign, channel="sms", recipient="+919810000008", status="queued")
    client.force_login(User.objects.create_superuser("root@linktrack.test", PASSWORD))
    changelist = reverse("admin:delivery_message_changelist")
    # when the admin lists messages, then both are there; filtered on tests, only the test
    listing = client.get(changelist).content.decode()
    assert "+919810000009" in listing and "+919810000008" in listing
    tests_only = client.get(changelist, {"proof__isempty": "0"}).content.decode()
    assert "+919810000009" in tests_only and "+919810000008" not in tests_only
    # and the test's own page opens
    assert client.get(reverse("admin:delivery_message_change", args=[test.pk])).status_code == 200
