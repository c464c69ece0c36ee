"""The message counters (kept by database triggers) equal a count of the messages, whatever writes them: inserts,
bulk status changes, single saves, deletes, tests from the preview (never counted), a campaign deleted, merges."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Campaign
from delivery import services
from delivery.models import Message, MessageCounts, Proof
from delivery.reports.selectors import HANDED_OVER, delivery_counts, messages_by_campaign
from tests.factories import CampaignFactory, make_customers, make_messages

STATUSES = [value for value, _ in Message.Status.choices]
REASONS = ["", "ndnc", "dlt_template", "expired"]

step = st.one_of(
    st.tuples(st.just("bulk"), st.integers(0, 1), st.sampled_from(STATUSES), st.sampled_from(REASONS)),
    st.tuples(st.just("one"), st.integers(0, 7), st.sampled_from(STATUSES), st.sampled_from(REASONS)),
    st.tuples(st.just("delete"), st.integers(0, 7)),
    st.tuples(st.just("proof"), st.integers(0, 7)),
    st.tuples(st.just("body"), st.integers(0, 7)),
    st.tuples(
        st.just("merge"),
    ),
    st.tuples(
        st.just("drop campaign"),
    ),
)


class Rollback(Exception):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, max_size=8))
def test_the_counters_equal_a_count_of_the_messages(org, template, steps):
    try:
        with transaction.atomic():
            _play(org, template, steps)
            raise Rollback
    except Rollback:
        pass


def _play(org, template, steps):
    customers = make_customers(org, 4)
    campaigns = [CampaignFactory(org=org, template=template, name=f"C{n}", status="dispatched") for n in range(2)]
    for campaign in campaigns:
        make_messages(campaign, customers, status="queued")
    for action, *args in steps:
        messages = list(Message.with_proofs.filter(campaign__in=campaigns).order_by("pk"))
        if action == "bulk" and args[0] < len(campaigns):
            Message.objects.filter(campaign=campaigns[args[0]]).update(status=args[1], reason_code=args[2])
        elif action == "one" and args[0] < len(messages):
            message = messages[args[0]]
            message.status, message.reason_code = args[1], args[2]
            message.save(update_fields=["status", "reason_code"])
        elif action == "delete" and args[0] < len(messages):
            messages[args[0]].delete()
        elif action == "proof" and args[0] < len(messages):
            proof = Proof.objects.create(campaign=messages[args[0]].campaign, recipients=1)
            Message.with_proofs.filter(pk=messages[args[0]].pk).update(proof=proof)
        elif action == "body" and args[0] < len(messages):
            Message.with_proofs.filter(pk=messages[args[0]].pk).update(body="changed")
        elif action == "merge":
            services.message_counts_merge()
        elif action == "drop campaign" and len(campaigns) > 1:
            campaigns.pop().delete()
    ids = [campaign.pk for campaign in campaigns]
    assert services.message_counts_differences(campaign_ids=ids) == []
    for campaign in campaigns:
        messages = Message.objects.filter(campaign=campaign)
        counts = delivery_counts(campaign_id=campaign.pk)
        assert counts.total == messages.count()
        assert counts.delivered == messages.filter(status="delivered").count()
    totals = messages_by_campaign(campaign_ids=ids)
    assert {pk: (total.messages, total.delivered, total.sent) for pk, total in totals.items()} == {
        campaign.pk: (
            Message.objects.filter(campaign=campaign).count(),
            Message.objects.filter(campaign=campaign, status="delivered").count(),
            Message.objects.filter(campaign=campaign, status__in=HANDED_OVER).count(),
        )
        for campaign in campaigns
        if Message.objects.filter(campaign=campaign).exists()
    }


@pytest.mark.django_db
def test_a_deleted_campaigns_rows_go_at_the_next_merge(org, template):
    campaign = CampaignFactory(org=org, template=template, name="Gone", status="dispatched")
    make_messages(campaign, make_customers(org, 3))
    pk = campaign.pk
    Campaign.objects.filter(pk=pk).delete()
    services.message_counts_merge()
    assert not MessageCounts.objects.filter(campaign_id=pk).exists()
