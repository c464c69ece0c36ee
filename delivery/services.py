"""Hand messages to gateways and apply what the gateways report back."""

import logging
import time
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.base.phone_numbers import MobileError, normalise_mobile
from campaigns.models import Campaign
from delivery.bulk import among, copy_rows
from delivery.gateways import (
    Exchange,
    OutgoingMessage,
    Receipt,
    gateway_config_for,
    gateway_for,
    gateway_from_config,
)
from delivery.gateways.base import redact
from delivery.gateways.simulated import SimulatedGateway
from delivery.models import GatewayConfig, GatewayExchange, Message, PendingReceipt
from delivery.signals import stop_replied

logger = logging.getLogger(__name__)

_RECEIPT_STATUS = {
    "delivered": Message.Status.DELIVERED,
    "not_delivered": Message.Status.NOT_DELIVERED,
    "unknown": Message.Status.UNKNOWN,
}


class Claimed(NamedTuple):
    """What sending reads of a claimed message (plain values: a model instance per message cost more than sending)."""

    pk: int
    campaign_id: int
    channel: str
    recipient: str
    body: str
    subject: str
    html_body: str


class Outcome(NamedTuple):
    """What a send batch writes back for one message."""

    pk: int
    status: str
    gateway_message_id: str = ""
    sent_at: datetime | None = None
    reason_code: str = ""
    gateway_error: str = ""
    finished_at: datetime | None = None


def messages_send(*, message_ids: list[int]) -> list[int]:
    """Send the queued messages among `message_ids`; returns the ids the gateway accepted.

    Messages are claimed first (queued -> submitting, rows locked and skipped by other workers), so a task that
    runs twice, or two workers given the same ids, never hand one message to a gateway twice.
    """
    messages = _claim(message_ids)
    if not messages:
        return []
    # A send task holds messages of one campaign.
    campaign = Campaign.objects.select_related("template__sender").get(pk=messages[0].campaign_id)
    config = gateway_config_for(org_id=campaign.org_id, channel=campaign.template.channel)
    try:
        gateway = (
            gateway_from_config(config)
            if config
            else gateway_for(org_id=campaign.org_id, channel=campaign.template.channel)
        )
    except (KeyError, TypeError, ValueError) as error:
        # A configuration missing a setting: nothing can be submitted, and the messages must not stay claimed.
        logger.exception("gateway configuration %s cannot be used", config.pk if config else None)
        return _all_not_sent(messages, config, "gateway_submit_failed", f"config:{type(error).__name__}", error)
    sender = campaign.template.sender
    header, entity_id = (sender.header, sender.dlt_entity_id) if sender else ("", "")
    template_id, promotional = campaign.template.dlt_template_id, bool(sender and sender.is_promotional)
    outgoing = [
        OutgoingMessage(
            m.pk, m.channel, m.recipient, m.body, header, entity_id, template_id, promotional, m.subject, m.html_body
        )
        for m in messages
    ]
    try:
        results = {r.message_id: r for r in gateway.send_batch(outgoing)}
    except Exception:
        # An adapter bug must not leave messages claimed forever: they are recorded as not sent, with the error.
        logger.exception("gateway %s failed on a batch of %d messages", gateway.name, len(messages))
        results = None
    now = timezone.now()
    outcomes = []
    accepted = []
    exchanges = []
    for message in messages:
        result = results.get(message.pk) if results is not None else None
        if result and result.accepted:
            outcomes.append(Outcome(message.pk, Message.Status.SENT, result.gateway_message_id, now))
            accepted.append(message.pk)
        elif result:
            outcomes.append(_not_sent(message.pk, result.reason_code, result.gateway_error[:100], now))
        elif results is None:
            outcomes.append(_not_sent(message.pk, "gateway_other", "adapter:error", now))
        else:  # the gateway answered for the batch but said nothing about this message
            outcomes.append(_not_sent(message.pk, "gateway_bad_response", "missing", now))
        if result:
            exchanges += [(message.pk, e) for e in result.exchanges]
    gateway_ids = [o.gateway_message_id for o in outcomes if o.gateway_message_id]
    with transaction.atomic():
        _outcomes_save(outcomes, now)
        exchanges_log(config=config, gateway_kind=gateway.name, exchanges=exchanges)
        pending_receipts_apply(gateway_message_ids=gateway_ids)
    drain = getattr(gateway, "drain_receipts", None)
    if drain:
        receipts_apply(receipts=drain(), org_id=campaign.org_id, config=config, gateway_kind=gateway.name)
    drain_replies = getattr(gateway, "drain_replies", None)
    if drain_replies and config is not None:
        smpp_replies_apply(config=config, replies=drain_replies())
    if isinstance(gateway, SimulatedGateway) and gateway_ids:
        _schedule_simulated_receipts(gateway_ids, config)
    return accepted


def _not_sent(pk: int, reason_code: str, gateway_error: str, now: datetime) -> Outcome:
    return Outcome(pk, Message.Status.NOT_SENT, reason_code=reason_code, gateway_error=gateway_error, finished_at=now)


def _all_not_sent(messages: list[Claimed], config, reason_code: str, gateway_error: str, error) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        _outcomes_save([_not_sent(m.pk, reason_code, gateway_error, now) for m in messages], now)
        exchanges_log(
            config=config,
            gateway_kind=config.kind if config else "",
            exchanges=[
                (m.pk, Exchange("submit", error=f"gateway configuration unusable: {error!r}")) for m in messages
            ],
        )
    return []


def _claim(message_ids: list[int]) -> list[Claimed]:
    with transaction.atomic():
        # Found by id alone, the status checked here: given the status too, PostgreSQL without fresh statistics
        # (a first large campaign) walked the campaign's whole status index for each batch.
        rows = (
            among(Message.with_proofs.select_for_update(skip_locked=True, of=("self",)), "id", message_ids)
            .order_by("pk")
            .values_list("status", *Claimed._fields)
        )
        messages = [Claimed(*row[1:]) for row in rows if row[0] == Message.Status.QUEUED]
        if messages:
            among(Message.with_proofs, "id", [m.pk for m in messages]).update(
                status=Message.Status.SUBMITTING, updated_at=timezone.now()
            )
    return messages


def _outcomes_save(outcomes: list[Outcome], now) -> None:
    """Write each message's outcome of a send batch (and updated_at).

    On PostgreSQL in one `UPDATE ... FROM (VALUES ...)` statement: Django's bulk_update builds a CASE expression
    per row and field, which cost about 3 ms per message and dominated sending. Elsewhere bulk_update.
    """
    if not outcomes:
        return
    if connection.vendor != "postgresql":
        Message.with_proofs.bulk_update(
            [Message(updated_at=now, **outcome._asdict()) for outcome in outcomes],
            [*Outcome._fields[1:], "updated_at"],
        )
        return
    table = connection.ops.quote_name(Message._meta.db_table)
    rows = ", ".join(["(%s, %s, %s, %s::timestamptz, %s, %s, %s::timestamptz)"] * len(outcomes))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS m SET status = v.status, gateway_message_id = v.gateway_message_id, "
            "sent_at = v.sent_at, reason_code = v.reason_code, gateway_error = v.gateway_error, "
            "finished_at = v.finished_at, updated_at = %s "
            f"FROM (VALUES {rows}) AS v (id, status, gateway_message_id, sent_at, reason_code, gateway_error, "
            "finished_at) WHERE m.id = v.id",
            [now, *(value for outcome in outcomes for value in outcome)],
        )


def _schedule_simulated_receipts(gateway_message_ids: list[str], config: GatewayConfig | None) -> None:
    from delivery.tasks import receipts_simulate_task

    config_id = config.pk if config else None
    transaction.on_commit(
        lambda: receipts_simulate_task.apply_async(
            (gateway_message_ids, config_id), countdown=settings.SIMULATED_RECEIPT_DELAY_SECONDS
        )
    )


def exchanges_log(
    *, config: GatewayConfig | None, gateway_kind: str, exchanges: list[tuple[int | None, Exchange]]
) -> None:
    """Keep each exchange in the message's gateway log, with the gateway's secrets redacted."""
    if not exchanges:
        return
    secrets = config.secret_values() if config else []
    rows = [
        (
            message_id,
            exchange.operation,
            redact(exchange.request, secrets),
            redact(exchange.response, secrets),
            redact(exchange.error, secrets) if exchange.error else "",
            exchange.duration_ms,
        )
        for message_id, exchange in exchanges
    ]
    shared = {"created_at": timezone.now(), "gateway_id": config.pk if config else None, "gateway_kind": gateway_kind}
    if connection.vendor == "postgresql":
        copy_rows(GatewayExchange, _EXCHANGE_COLUMNS, rows, shared=shared)
    else:
        GatewayExchange.objects.bulk_create(
            [GatewayExchange(**shared, **dict(zip(_EXCHANGE_COLUMNS, row, strict=True))) for row in rows]
        )


_EXCHANGE_COLUMNS = ("message_id", "operation", "request", "response", "error", "duration_ms")


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
    now = timezone.now()
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
        changed = _outcomes_apply(outcomes, timezone.now())
        PendingReceipt.objects.filter(pk__in=[p.pk for p in pending]).delete()
    return changed


def receipts_expire(*, batch_size: int | None = None) -> int:
    """Messages still waiting after RECEIPT_WAIT become not delivered, "no receipt". One bounded batch per call."""
    cutoff = timezone.now() - timedelta(hours=settings.RECEIPT_WAIT_HOURS)
    batch = list(
        Message.with_proofs.filter(status=Message.Status.SENT, sent_at__lt=cutoff)
        .order_by("sent_at")
        .values_list("pk", flat=True)[: batch_size or settings.RECEIPT_EXPIRE_BATCH]
    )
    now = timezone.now()
    return Message.with_proofs.filter(pk__in=batch, status=Message.Status.SENT).update(
        status=Message.Status.NOT_DELIVERED, reason_code="no_receipt", finished_at=now, updated_at=now
    )


def pending_receipts_purge() -> int:
    """Receipts whose message never appeared are dropped after PENDING_RECEIPT_KEEP_HOURS."""
    cutoff = timezone.now() - timedelta(hours=settings.PENDING_RECEIPT_KEEP_HOURS)
    deleted, _ = PendingReceipt.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def gateway_log_purge(*, batch_size: int = 5000, max_batches: int = 20) -> int:
    """Gateway exchanges older than GATEWAY_LOG_KEEP_DAYS are dropped, a bounded number per run.

    The oldest rows have the lowest ids, so each batch is found by walking the primary key from the start and
    stops after `batch_size` rows: no index on the time is needed, and a big backlog goes over several runs."""
    cutoff = timezone.now() - timedelta(days=settings.GATEWAY_LOG_KEEP_DAYS)
    deleted = 0
    for _ in range(max_batches):
        ids = list(
            GatewayExchange.objects.filter(created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        deleted += GatewayExchange.objects.filter(pk__in=ids).delete()[0]
    return deleted


def simulated_receipts_deliver(*, gateway_message_ids: list[str], gateway_config_id: int | None = None) -> int:
    config = GatewayConfig.objects.filter(pk=gateway_config_id).first() if gateway_config_id else None
    gateway = SimulatedGateway.from_settings(config.settings if config else None)
    return receipts_apply(receipts=gateway.receipts_for(gateway_message_ids), config=config, gateway_kind="simulated")


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
