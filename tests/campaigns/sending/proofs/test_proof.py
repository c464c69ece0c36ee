"""Send a test (a proof) of a draft campaign: the real message, tracked links, credits, gateway; in no report."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from campaigns.lifecycle.selectors import campaign_summaries
from campaigns.models import Campaign, CampaignEvent, Customer, Org, Template
from campaigns.sending.rules import capped_customers
from campaigns.sending.test_sends import ProofRefused, proof_recipients_parse
from delivery.gateways.base import Receipt
from delivery.models import GatewayExchange, Message, Proof
from delivery.reports.selectors import delivery_counts, messages_by_campaign
from delivery.services import receipts_apply
from insights.compare.comparison import campaigns_compare
from insights.reports.click_export import campaign_click_rows
from insights.reports.selectors import campaign_insights
from linktrack.counts.click_counts import click_counts, click_counts_by_campaign
from linktrack.models import Click
from tests.campaigns.sending.proofs.helpers import MY_NUMBER, _draft
from tests.factories import make_customers
from tests.helpers import launch


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
    assert messages_by_campaign(campaign_ids=[campaign.pk])[campaign.pk].messages == 10
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
