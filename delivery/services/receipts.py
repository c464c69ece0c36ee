"""What gateways report back: receipts (matched to messages, out of order or before the hand-over was recorded),
receipts that never came, and customers' replies (a STOP unsubscribes)."""

import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction

from campaigns.base.phone_numbers import MobileError, normalise_mobile
from campaigns.models import Template
from delivery.bulk import among
from delivery.gateways import (
    Exchange,
    Receipt,
)
from delivery.models import GatewayConfig, Message, PendingReceipt
from delivery.services import clock
from delivery.services.gateway_log import exchanges_log
from delivery.signals import stop_replied

_RECEIPT_STATUS = {
    "delivered": Message.Status.DELIVERED,
    "not_delivered": Message.Status.NOT_DELIVERED,
    "unknown": Message.Status.UNKNOWN,
}


@transaction.atomic
def receipts_apply(
    *,
    receipts: list[Receipt],
    org_id: int | None = None,
    config: GatewayConfig | None = None,
    gateway_kind: str = "",
) -> int:
    """Apply receipts; returns how many changed a message.

    Only a message still waiting (sent) moves: a final state is never overwritten, an intermediate receipt
    ("pending") changes nothing, and a repeated receipt finds its message already final. A final receipt for an
    id no message carries yet is kept (PendingReceipt) and applied when a message gets that id.

    A few queries per batch, not per receipt: one finds the messages, one locks those still waiting, one UPDATE
    per distinct outcome (status, reason, error) moves them, and the first final receipt of a batch for a message is
    the one that counts.
    """
    if not receipts:
        return 0
    now = clock.now()
    by_gateway_id = _messages_by_gateway_id({i for r in receipts for i in r.ids if i}, org_id=org_id)
    waiting = _waiting_locked({pk for pks in by_gateway_id.values() for pk in pks})
    log: list[tuple[int | None, Exchange]] = []
    pending: list[PendingReceipt] = []
    outcomes: dict[tuple[str, str, str], list[int]] = {}
    decided: set[int] = set()
    for receipt in receipts:
        message_ids = sorted({pk for i in receipt.ids for pk in by_gateway_id.get(i, ())})[:10]
        status = _RECEIPT_STATUS.get(receipt.state)
        if receipt.raw:
            log.append((message_ids[0] if message_ids else None, Exchange("receipt", receipt.raw)))
        if status is None:
            continue
        if not message_ids:
            pending += [
                PendingReceipt(
                    org_id=org_id,
                    gateway_message_id=gateway_message_id,
                    state=receipt.state,
                    reason_code=receipt.reason_code,
                    gateway_error=receipt.gateway_error[:100],
                    received_at=now,
                )
                for gateway_message_id in receipt.ids
            ]
            continue
        outcome = (status, receipt.reason_code, receipt.gateway_error[:100])
        for pk in message_ids:
            # A message already final stays as it is; a later receipt in the batch finds it decided.
            if pk in waiting and pk not in decided:
                decided.add(pk)
                outcomes.setdefault(outcome, []).append(pk)
    changed = _outcomes_apply(outcomes, now)
    if pending:
        PendingReceipt.objects.bulk_create(pending)
    if log:
        exchanges_log(config=config, gateway_kind=gateway_kind or (config.kind if config else ""), exchanges=log)
    return changed


def _messages_by_gateway_id(gateway_message_ids: set[str], *, org_id: int | None) -> dict[str, list[int]]:
    """Message ids by gateway id (at most 10 per gateway id), within an org when given."""
    found: dict[str, list[int]] = {}
    ids = sorted(gateway_message_ids)
    if connection.vendor == "postgresql":
        # One index probe per id, whatever the planner's statistics say: asked for a list of 1,000 ids,
        # PostgreSQL without fresh statistics (a first large campaign) scanned every message instead.
        message, campaign = Message._meta.db_table, Message._meta.get_field("campaign").related_model._meta.db_table
        in_org = (
            f" AND m.campaign_id IN (SELECT c.id FROM {campaign} c WHERE c.org_id = %s)" if org_id is not None else ""
        )
        sql = (
            f"SELECT m.id, m.gateway_message_id FROM unnest(%s::text[]) AS g(id) CROSS JOIN LATERAL "
            f"(SELECT m.id, m.gateway_message_id FROM {message} m WHERE m.gateway_message_id = g.id "
            f"AND NOT (m.gateway_message_id = ''){in_org} ORDER BY m.id LIMIT 10) AS m"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [ids] if org_id is None else [ids, org_id])
            rows = cursor.fetchall()
    else:
        candidates = Message.with_proofs.filter(gateway_message_id__in=ids).exclude(gateway_message_id="")
        if org_id is not None:
            candidates = candidates.filter(campaign__org_id=org_id)
        rows = candidates.values_list("pk", "gateway_message_id")
    for pk, gateway_message_id in rows:
        found.setdefault(gateway_message_id, []).append(pk)
    return found


def _waiting_locked(message_ids: set[int]) -> set[int]:
    """Those of the messages still waiting for a receipt (sent), locked until the transaction ends.

    Found by id alone, the status checked here: given the status too, PostgreSQL without fresh statistics (a first
    large campaign) took the index of waiting messages and read every one of them, for each batch of receipts.
    """
    if not message_ids:
        return set()
    rows = among(Message.with_proofs.select_for_update(), "id", sorted(message_ids)).order_by("pk")
    return {pk for pk, status in rows.values_list("pk", "status") if status == Message.Status.SENT}


def _outcomes_apply(outcomes: dict[tuple[str, str, str], list[int]], now) -> int:
    """Move messages to their outcome: one UPDATE per outcome, by id alone; returns how many moved.

    The caller has locked the messages and checked that each is still waiting (sent), see _waiting_locked.
    """
    changed = 0
    for (status, reason_code, gateway_error), message_ids in outcomes.items():
        for start in range(0, len(message_ids), 5000):
            changed += among(Message.with_proofs, "id", message_ids[start : start + 5000]).update(
                status=status, reason_code=reason_code, gateway_error=gateway_error, finished_at=now, updated_at=now
            )
    return changed


def pending_receipts_apply(*, gateway_message_ids: list[str]) -> int:
    """Apply receipts that arrived before their message had its gateway id (the earliest kept receipt counts)."""
    ids = [i for i in gateway_message_ids if i]
    if not ids:
        return 0
    pending = list(among(PendingReceipt.objects, "gateway_message_id", ids).order_by("received_at", "pk"))
    if not pending:
        return 0
    with transaction.atomic():
        waiting: dict[str, list[tuple[int, int]]] = {}
        # Locked, the status checked here (see _waiting_locked).
        for pk, gateway_message_id, message_org_id, status in (
            Message.with_proofs.select_for_update(of=("self",))
            .filter(gateway_message_id__in={p.gateway_message_id for p in pending})
            .exclude(gateway_message_id="")
            .values_list("pk", "gateway_message_id", "campaign__org_id", "status")
        ):
            if status == Message.Status.SENT:
                waiting.setdefault(gateway_message_id, []).append((pk, message_org_id))
        outcomes: dict[tuple[str, str, str], list[int]] = {}
        decided: set[int] = set()
        for receipt in pending:
            outcome = (_RECEIPT_STATUS[receipt.state], receipt.reason_code, receipt.gateway_error)
            for pk, message_org_id in waiting.get(receipt.gateway_message_id, ()):
                if pk not in decided and (not receipt.org_id or receipt.org_id == message_org_id):
                    decided.add(pk)
                    outcomes.setdefault(outcome, []).append(pk)
        changed = _outcomes_apply(outcomes, clock.now())
        PendingReceipt.objects.filter(pk__in=[p.pk for p in pending]).delete()
    return changed


def receipts_expire(*, batch_size: int | None = None) -> int:
    """Messages still waiting after RECEIPT_WAIT become not delivered, "no receipt"; those from a promotional
    (numeric) sender, whose delivery operators never report, become unknown, "operator shares no delivery details"
    (never offered for a resend). One bounded batch per call."""
    cutoff = clock.now() - timedelta(hours=settings.RECEIPT_WAIT_HOURS)
    batch = list(
        Message.with_proofs.filter(status=Message.Status.SENT, sent_at__lt=cutoff)
        .order_by("sent_at")
        .values_list("pk", flat=True)[: batch_size or settings.RECEIPT_EXPIRE_BATCH]
    )
    now = clock.now()
    waiting = Message.with_proofs.filter(pk__in=batch, status=Message.Status.SENT)
    unreported = waiting.filter(**Template.UNREPORTED_MESSAGES).update(
        status=Message.Status.UNKNOWN, reason_code="operator_no_report", finished_at=now, updated_at=now
    )
    return unreported + waiting.update(
        status=Message.Status.NOT_DELIVERED, reason_code="no_receipt", finished_at=now, updated_at=now
    )


def pending_receipts_purge() -> int:
    """Receipts whose message never appeared are dropped after PENDING_RECEIPT_KEEP_HOURS."""
    cutoff = clock.now() - timedelta(hours=settings.PENDING_RECEIPT_KEEP_HOURS)
    deleted, _ = PendingReceipt.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def inbound_replies_apply(*, config: GatewayConfig, replies: list) -> int:
    """A "STOP" reply unsubscribes the customer with that number from SMS (campaigns.customers, through the
    stop_replied signal); returns how many were unsubscribed."""
    unsubscribed = 0
    for reply in replies:
        if not reply.is_stop:
            continue
        note = f"replied {reply.text.strip()[:40]!r} via {config}"
        answers = stop_replied.send(
            sender=GatewayConfig, org_id=config.org_id, mobile=_inbound_mobile(reply.from_number), note=note
        )
        unsubscribed += sum(answer for _, answer in answers)
    return unsubscribed


def smpp_replies_apply(*, config: GatewayConfig, replies: list) -> int:
    """Customers' replies that came over SMPP (delivery.gateways.smpp.SmppReply): a STOP unsubscribes, as through an
    HTTP gateway's webhook, and each is kept in the gateway log, with why it was not read when it was not (the
    deliver_sm was acknowledged already). Returns how many customers were unsubscribed."""
    started = time.monotonic()
    unsubscribed = inbound_replies_apply(config=config, replies=[r.reply for r in replies if r.reply is not None])
    duration_ms = int((time.monotonic() - started) * 1000)
    exchanges_log(
        config=config,
        gateway_kind="smpp",
        exchanges=[
            (None, Exchange("inbound", r.raw[:4000], "deliver_sm_resp", r.problem, duration_ms)) for r in replies
        ],
    )
    return unsubscribed


def _inbound_mobile(number: str) -> str | None:
    """The E.164 form of a reply's sender as gateways write it: "+919812348765", "919812348765" (Infobip) or
    "9812348765" (Gupshup's msisdn). National forms are read as the org's country (India) first."""
    for candidate in (number, number if number.startswith("+") else f"+{number}"):
        try:
            return normalise_mobile(candidate)
        except MobileError:
            continue
    return None
