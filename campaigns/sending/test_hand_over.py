"""Handing a test from the preview to the gateway, as dispatch's send task does, and settling its credits: what
the test's task runs (campaigns.sending.tasks) and the supervisor re-runs for a test whose worker was lost."""

from django.db import transaction
from django.db.models import F

from campaigns.models import Org
from delivery.models import Message, Proof
from delivery.services import messages_send


def proof_hand_over(*, proof_id: int) -> int:
    """Hand the test's queued messages to the gateway as dispatch's send task does (same gateway, log and receipts),
    then give back the credits of those it did not take. Safe to run twice: sending claims each message first.
    Returns how many the gateway took."""
    queued = Message.with_proofs.filter(proof_id=proof_id, status=Message.Status.QUEUED)
    accepted = messages_send(message_ids=list(queued.values_list("pk", flat=True)))
    proof_credits_settle(proof_id=proof_id)
    return len(accepted)


def proof_credits_settle(*, proof_id: int) -> int:
    """Give back the credits of the test's messages that were not sent: a proof keeps one credit per segment of the
    others. Safe to run again and at once (the proof's row is locked); returns the credits given back."""
    with transaction.atomic():
        proof = Proof.objects.select_for_update(of=("self",)).select_related("campaign").filter(pk=proof_id).first()
        if proof is None:  # deleted with its campaign
            return 0
        kept = sum(
            Message.with_proofs.filter(proof_id=proof_id)
            .exclude(status=Message.Status.NOT_SENT)
            .values_list("segments", flat=True)
        )
        refund = proof.credits - kept
        if refund <= 0:
            return 0
        Org.objects.filter(pk=proof.campaign.org_id).update(credits=F("credits") + refund)
        Proof.objects.filter(pk=proof_id).update(credits=kept)
    return refund
