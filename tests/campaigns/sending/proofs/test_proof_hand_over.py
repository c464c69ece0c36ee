"""A test's hand-over when no worker took it, and tests in the message admin."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Org, User
from campaigns.sending import test_hand_over
from campaigns.sending import test_sends as proofs
from campaigns.sending.supervisor import campaigns_supervise
from campaigns.sending.test_hand_over import proof_credits_settle
from campaigns.sending.test_sends import proof_send
from delivery.models import Message, Proof
from tests.campaigns.sending.proofs.helpers import MY_NUMBER, _draft
from tests.factories import PASSWORD
from tests.helpers import admin_sign_in


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

    # then the queued test went to the gateway and the one cut off mid hand-over may have been sent (a second
    # hand-over could make a second SMS): never handed over again, its credit kept, the cut-off in its gateway log
    assert set(Message.with_proofs.filter(proof=lost).values_list("status", flat=True)) == {"sent"}
    stuck = Message.with_proofs.get(proof=died)
    assert (stuck.status, stuck.reason_code) == (Message.Status.UNKNOWN, "handover_cut_off")
    assert stuck.exchanges.get().error.startswith("hand-over cut off")
    assert proof_credits_settle(proof_id=died.pk) == 0
    assert Org.objects.get(pk=org.pk).credits == credits - 3
    assert (Proof.objects.get(pk=lost.pk).credits, Proof.objects.get(pk=died.pk).credits) == (2, 1)
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
    admin_sign_in(client, User.objects.create_superuser("root@linktrack.test", PASSWORD))
    changelist = reverse("admin:delivery_message_changelist")
    # when the admin lists messages, then both are there; filtered on tests, only the test
    listing = client.get(changelist).content.decode()
    assert "+919810000009" in listing and "+919810000008" in listing
    tests_only = client.get(changelist, {"proof__isempty": "0"}).content.decode()
    assert "+919810000009" in tests_only and "+919810000008" not in tests_only
    # and the test's own page opens
    assert client.get(reverse("admin:delivery_message_change", args=[test.pk])).status_code == 200
