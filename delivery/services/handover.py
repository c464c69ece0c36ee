"""Hand messages to gateways: claim them, send each batch through the org's gateway, record each outcome."""

import logging
from datetime import datetime
from typing import NamedTuple

from django.db import connection, transaction

from campaigns.models import Campaign
from delivery.bulk import among, array_text
from delivery.gateways import (
    Exchange,
    OutgoingMessage,
    gateway_config_for,
    gateway_for,
    gateway_from_config,
)
from delivery.gateways.simulated import SimulatedGateway
from delivery.models import Message
from delivery.services import clock
from delivery.services.gateway_log import exchanges_log
from delivery.services.receipts import pending_receipts_apply, receipts_apply, smpp_replies_apply
from delivery.services.simulated_receipts import simulated_receipts_schedule

logger = logging.getLogger(__name__)


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
    runs twice, or two workers given the same ids, never hand one message to a gateway twice. An adapter that hands
    messages over one at a time (`records_every`, HTTP) gets them in slices, each claimed, handed over and recorded
    before the next: a worker that dies mid-task leaves one slice of unknown outcome ("submitting", for the
    supervisor), the rest recorded or still queued.
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
    step = getattr(gateway, "records_every", 0)
    if not step or len(messages) <= step:
        return _hand_over(campaign, config, gateway, messages)
    # The first slice stays claimed; the others go back to queued, to be claimed slice by slice.
    _unclaim(messages[step:])
    accepted = _hand_over(campaign, config, gateway, messages[:step])
    rest = [m.pk for m in messages[step:]]
    for start in range(0, len(rest), step):
        claimed = _claim(rest[start : start + step])
        if claimed:
            accepted += _hand_over(campaign, config, gateway, claimed)
    return accepted


def _hand_over(campaign: Campaign, config, gateway, messages: list[Claimed]) -> list[int]:
    """Hand claimed messages to the gateway and record what became of each, with the gateway log."""
    try:
        results = {r.message_id: r for r in gateway.send_batch(_outgoing(campaign, messages))}
    except Exception:
        # An adapter bug must not leave messages claimed forever: they are recorded as not sent, with the error.
        logger.exception("gateway %s failed on a batch of %d messages", gateway.name, len(messages))
        results = None
    now = clock.now()
    outcomes, exchanges = _outcomes(messages, results, now)
    accepted = [outcome.pk for outcome in outcomes if outcome.status == Message.Status.SENT]
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
        simulated_receipts_schedule(gateway_ids, config)
    return accepted


def _outgoing(campaign: Campaign, messages: list[Claimed]) -> list[OutgoingMessage]:
    """The batch as the adapter takes it: each message with its campaign's DLT sender, entity and template ids."""
    sender = campaign.template.sender
    header, entity_id = (sender.header, sender.dlt_entity_id) if sender else ("", "")
    template_id, promotional = campaign.template.dlt_template_id, bool(sender and sender.is_promotional)
    return [
        OutgoingMessage(
            m.pk, m.channel, m.recipient, m.body, header, entity_id, template_id, promotional, m.subject, m.html_body
        )
        for m in messages
    ]


def _outcomes(messages: list[Claimed], results: dict | None, now: datetime) -> tuple[list[Outcome], list]:
    """Each message's outcome from the gateway's results (None: the adapter failed on the batch), and the
    exchanges to keep in the gateway log."""
    outcomes, exchanges = [], []
    for message in messages:
        result = results.get(message.pk) if results is not None else None
        if result and result.accepted:
            outcomes.append(Outcome(message.pk, Message.Status.SENT, result.gateway_message_id, now))
        elif result:
            outcomes.append(_not_sent(message.pk, result.reason_code, result.gateway_error[:100], now))
        elif results is None:
            outcomes.append(_not_sent(message.pk, "gateway_other", "adapter:error", now))
        else:  # the gateway answered for the batch but said nothing about this message
            outcomes.append(_not_sent(message.pk, "gateway_bad_response", "missing", now))
        if result:
            exchanges += [(message.pk, e) for e in result.exchanges]
    return outcomes, exchanges


def _not_sent(pk: int, reason_code: str, gateway_error: str, now: datetime) -> Outcome:
    return Outcome(pk, Message.Status.NOT_SENT, reason_code=reason_code, gateway_error=gateway_error, finished_at=now)


def _all_not_sent(messages: list[Claimed], config, reason_code: str, gateway_error: str, error) -> list[int]:
    now = clock.now()
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


def _unclaim(messages: list[Claimed]) -> None:
    among(Message.with_proofs.filter(status=Message.Status.SUBMITTING), "id", [m.pk for m in messages]).update(
        status=Message.Status.QUEUED, updated_at=clock.now()
    )


def _claim(message_ids: list[int]) -> list[Claimed]:
    """Claim the queued messages among `message_ids` (queued -> submitting), skipping rows another worker holds
    locked, and read what sending needs of them, in id order."""
    if connection.vendor == "postgresql":
        return _claim_returning(message_ids)
    with transaction.atomic():
        rows = (
            among(Message.with_proofs.select_for_update(skip_locked=True, of=("self",)), "id", message_ids)
            .order_by("pk")
            .values_list("status", *Claimed._fields)
        )
        messages = [Claimed(*row[1:]) for row in rows if row[0] == Message.Status.QUEUED]
        if messages:
            among(Message.with_proofs, "id", [m.pk for m in messages]).update(
                status=Message.Status.SUBMITTING, updated_at=clock.now()
            )
    return messages


def _claim_returning(message_ids: list[int]) -> list[Claimed]:
    """_claim in one statement: the rows locked (in id order, skipping locked ones) and moved to submitting by an
    `UPDATE ... RETURNING`, rather than read by a SELECT ... FOR UPDATE and moved by a second statement.

    The rows are found by id alone, the status checked on the locked row: given the status too, PostgreSQL without
    fresh statistics (a first large campaign) walked the campaign's whole status index for each batch. The locked
    ids reach the UPDATE as one array, not as a join, for the same reason: joined, the planner took the few rows it
    expected to be queued as the outer side and read the locked ones again for each."""
    quote = connection.ops.quote_name
    table = quote(Message._meta.db_table)
    fields = [Message._meta.pk if name == "pk" else Message._meta.get_field(name) for name in Claimed._fields]
    returned = ", ".join(f"m.{quote(field.column)}" for field in fields)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH locked AS (SELECT id FROM {table} WHERE id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE SKIP LOCKED) "
            f"UPDATE {table} AS m SET status = %s, updated_at = %s "
            f"WHERE m.id = ANY(ARRAY(SELECT id FROM locked)) AND m.status = %s RETURNING {returned}",
            [array_text(message_ids), Message.Status.SUBMITTING, clock.now(), Message.Status.QUEUED],
        )
        rows = cursor.fetchall()
    return sorted(Claimed._make(row) for row in rows)


def _outcomes_save(outcomes: list[Outcome], now) -> None:
    """Write each message's outcome of a send batch (and updated_at).

    On PostgreSQL in one `UPDATE ... FROM unnest(...)` statement, each column given as one array (written as one
    array literal, see array_text): Django's bulk_update builds a CASE expression per row and field (about 3 ms per
    message), and a VALUES list of seven parameters per row cost the driver and the server's parser about 30 us per
    message. Elsewhere bulk_update.
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
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS m SET status = v.status, gateway_message_id = v.gateway_message_id, "
            "sent_at = v.sent_at, reason_code = v.reason_code, gateway_error = v.gateway_error, "
            "finished_at = v.finished_at, updated_at = %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], "
            "%s::timestamptz[]) AS v (id, status, gateway_message_id, sent_at, reason_code, gateway_error, "
            "finished_at) WHERE m.id = v.id",
            [now, *(array_text(column) for column in zip(*outcomes, strict=True))],
        )
