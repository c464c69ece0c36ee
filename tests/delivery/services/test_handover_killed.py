"""A worker killed (SIGKILL) in the middle of a hand-over to a real HTTP gateway on this machine, then the recovery
(a new worker, the supervisor): every message ends in a known state, none is handed over twice without its gateway
log saying so, and the credits are exact."""

import os
import signal
import time
from collections import Counter

import pytest

from campaigns.lifecycle import services as campaign_services
from campaigns.lifecycle.services import resend_options
from campaigns.models import Campaign, Org
from campaigns.sending.supervisor import campaigns_supervise
from delivery.models import GatewayExchange, Message
from tests.factories import LINK_SLOTS, http_config, make_customers

TOTAL = 100


def _kill_mid_hand_over(workers, http_gateway, template, manager, settings) -> tuple[Campaign, dict]:
    """Launch a campaign of TOTAL through the HTTP gateway (20 ms an answer), kill the worker once the gateway has
    received 30 messages, then recover with a new worker and the supervisor until the campaign is settled."""
    settings.SUBMITTING_STALE_SECONDS = 1
    settings.QUEUED_STALE_SECONDS = 2
    settings.DISPATCH_STALE_SECONDS = 2
    workers.env.update(DISPATCH_BATCH_SIZE=str(TOTAL), GATEWAY_ALLOW_PRIVATE_ADDRESSES="true")
    http_gateway.delay = 0.02
    make_customers(template.org, TOTAL)
    campaign = campaign_services.campaign_create(
        org=template.org, user=manager, name="Killed mid hand-over", template=template, slot_values=LINK_SLOTS
    )
    first = workers.start("--pool=solo")
    campaign_services.campaign_launch(campaign=campaign, user=manager)

    deadline = time.monotonic() + 60
    while len(http_gateway.references()) < 30 and time.monotonic() < deadline:
        assert first.poll() is None, "the worker process died by itself"
        time.sleep(0.005)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    messages = Message.objects.filter(campaign=campaign)
    at_kill = Counter(messages.values_list("status", flat=True))
    figures = {
        "received_at_kill": len(http_gateway.references()),
        "sent_at_kill": at_kill[Message.Status.SENT],
        "submitting_at_kill": at_kill[Message.Status.SUBMITTING],
        "queued_at_kill": at_kill[Message.Status.QUEUED],
    }
    assert figures["sent_at_kill"] < TOTAL, "the campaign finished before the kill; the test proves nothing"

    second = workers.start("--pool=solo")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        campaigns_supervise()
        if Campaign.objects.get(pk=campaign.pk).credits_settled_at:
            break
        assert second.poll() is None, "the new worker died"
        time.sleep(0.5)
    print(figures)
    return Campaign.objects.get(pk=campaign.pk), figures


def _log_of(campaign: Campaign) -> dict[int, list[str]]:
    """Each message's gateway log: the error of each submit exchange ('' for an answer)."""
    log: dict[int, list[str]] = {}
    for message_id, error in GatewayExchange.objects.filter(message__campaign=campaign, operation="submit").values_list(
        "message_id", "error"
    ):
        log.setdefault(message_id, []).append(error)
    return log


def test_a_worker_killed_mid_hand_over_leaves_messages_that_may_have_been_sent_charged_never_resent(
    workers, http_gateway, template, manager, settings
):
    # given a gateway that does not drop a repeated reference, and 10,000 credits
    http_config(template.org, http_gateway.url, max_retries=0)
    credits = Org.objects.get(pk=template.org_id).credits

    # when the worker is killed in the middle of the hand-over, and the recovery runs
    campaign, figures = _kill_mid_hand_over(workers, http_gateway, template, manager, settings)

    # then every message is sent or "may have been sent": only the slice being handed over at the kill
    messages = Message.objects.filter(campaign=campaign)
    outcomes = Counter(messages.values_list("status", "reason_code"))
    cut_off = outcomes[(Message.Status.UNKNOWN, "handover_cut_off")]
    assert outcomes[(Message.Status.SENT, "")] + cut_off == TOTAL
    assert 0 < cut_off <= 20 and cut_off == figures["submitting_at_kill"]
    # the gateway got no message twice, and got each one recorded as sent exactly once
    received = Counter(http_gateway.references())
    assert set(received.values()) == {1}
    sent_ids = {str(pk) for pk in messages.filter(status=Message.Status.SENT).values_list("pk", flat=True)}
    assert sent_ids <= set(received)
    # every message's gateway log has its hand-over; a cut-off one says so
    log = _log_of(campaign)
    assert set(log) == set(messages.values_list("pk", flat=True))
    for pk in messages.filter(reason_code="handover_cut_off").values_list("pk", flat=True):
        assert log[pk] == [log[pk][0]] and log[pk][0].startswith("hand-over cut off")
    # the credits: one per message sent or that may have been sent, none given back for those
    assert Org.objects.get(pk=template.org_id).credits == credits - TOTAL
    assert campaign.credits_charged == TOTAL
    # and a resend never offers them
    assert "handover_cut_off" not in {code for code, _, _ in resend_options(source=campaign)}
    print(
        {**figures, "sent": TOTAL - cut_off, "may_have_been_sent": cut_off, "gateway_received": sum(received.values())}
    )


def test_with_a_gateway_that_drops_repeats_a_cut_off_hand_over_is_made_again_and_logged_twice(
    workers, http_gateway, template, manager, settings
):
    # given a gateway that drops a message whose reference it has taken before
    http_config(template.org, http_gateway.url, max_retries=0, drops_repeated_reference=True)
    http_gateway.drop_repeats = True
    credits = Org.objects.get(pk=template.org_id).credits

    # when the worker is killed in the middle of the hand-over, and the recovery runs
    campaign, figures = _kill_mid_hand_over(workers, http_gateway, template, manager, settings)

    # then every message is sent, each reached a phone once, and one handed over twice has two hand-overs in its log
    messages = Message.objects.filter(campaign=campaign)
    assert messages.filter(status=Message.Status.SENT).count() == TOTAL
    assert len(http_gateway.sent) == TOTAL and set(http_gateway.sent.values()) == {1}
    received = Counter(http_gateway.references())
    twice = {int(reference) for reference, n in received.items() if n == 2}
    assert set(received.values()) <= {1, 2} and len(twice) <= figures["submitting_at_kill"]
    log = _log_of(campaign)
    for pk in twice:
        assert len(log[pk]) == 2 and log[pk][0].startswith("hand-over cut off") and log[pk][1] == ""
    assert Org.objects.get(pk=template.org_id).credits == credits - TOTAL
    print({**figures, "handed_over_twice": len(twice), "gateway_received": sum(received.values())})


@pytest.fixture(autouse=True)
def _org_credits(template):
    Org.objects.filter(pk=template.org_id).update(credits=10_000)
