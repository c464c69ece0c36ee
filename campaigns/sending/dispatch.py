"""Dispatch: expand a campaign's audience into messages, check and render each, and hand them to delivery.

This is the one place that calls into both linktrack (short links) and delivery (messages, sending).
Work is done in batches: the number of queries grows with recipients / batch size, never with recipients.

Per recipient, in this order: already has a message (a resumed run) or shares a number/address with an earlier
recipient (one message per number), unsubscribed, invalid or missing number/address, NDNC register (promotional
senders only), rendering (DLT match), the org's frequency cap (promotional campaigns, see campaigns.sending.rules),
credits. Each refusal is a not-sent reason from the catalogue.
"""

import logging
from datetime import datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef

from campaigns.base import clock
from campaigns.base.history import campaign_event_record
from campaigns.customers.audience import ndnc_blocked_mobiles
from campaigns.customers.campaign_audience import campaign_audience, coupon_expiry_date
from campaigns.dlt.rendering import CUSTOMER_FIELDS, with_coupon_values
from campaigns.models import Campaign, CampaignEvent, Channel, Coupon, Customer, DispatchBatchDone, Org
from campaigns.sending.duplicate_recipients import duplicate_recipients
from campaigns.sending.holds import campaign_hold
from campaigns.sending.message_drafts import (
    AudienceCustomer,
    MessageDraft,
    messages_copy,
    next_message_ids,
    normalised_recipient,
)
from campaigns.sending.renderer import MessageRenderer
from campaigns.sending.rules import FREQUENCY_CAP_REASON, campaign_is_capped, capped_customers
from delivery.bulk import among
from delivery.models import Message
from delivery.tasks import messages_send_task
from linktrack.services import campaign_links_cache

logger = logging.getLogger(__name__)
IST = ZoneInfo("Asia/Kolkata")
# TRAI: promotional messages only between 09:00 and 21:00 IST.
PROMOTIONAL_WINDOW = (time(9, 0), time(21, 0))
_UPDATE_FIELDS = ["body", "subject", "html_body", "segments", "status", "reason_code", "finished_at"]


def promotional_window_opens_at(moment: datetime) -> datetime | None:
    """None inside 09:00-21:00 IST; otherwise when the window next opens."""
    local = moment.astimezone(IST)
    opens, closes = PROMOTIONAL_WINDOW
    if opens <= local.time() < closes:
        return None
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=IST)


def campaign_dispatch(*, campaign_id: int) -> None:
    """Plan a campaign's preparation, from where an earlier try stopped: its audience cut into batches, each a task
    that any worker may take (campaign_dispatch_batch), so several workers prepare one campaign side by side.

    Each try counts (Campaign.dispatch_tries, back to 0 once a batch is done). A try that fails is logged and left
    for the supervisor to restart; the DISPATCH_MAX_TRIES-th failing try in a row pauses the campaign instead, with
    the reason on its page, so a fault that would recur is not retried forever."""
    campaign = Campaign.objects.select_related("org", "template__sender", "resend_of").get(pk=campaign_id)
    if campaign.status != Campaign.Status.DISPATCHING:
        return
    Campaign.objects.filter(pk=campaign_id).update(dispatch_tries=F("dispatch_tries") + 1)
    try:
        DispatchPlanner(campaign).run()
    except Exception as error:  # whatever it is, the campaign must not stay "sending" with nobody at work on it
        logger.exception("campaign %s: preparing its messages failed", campaign_id)
        _count_failure(campaign, error)


def campaign_dispatch_batch(*, campaign_id: int, plan: int, customer_ids: list[int], number: int = 0) -> None:
    """Prepare batch `number` of a campaign's plan: check, render, charge, store and queue for sending."""
    campaign = Campaign.objects.select_related("org", "template__sender", "resend_of").get(pk=campaign_id)
    if campaign.status != Campaign.Status.DISPATCHING:
        return  # paused, cancelled or held meanwhile
    try:
        Dispatcher(campaign, plan=plan, batch=number).prepare(customer_ids)
    except Exception as error:
        logger.exception("campaign %s: preparing a batch of its messages failed", campaign_id)
        _count_failure(campaign, error)


def _count_failure(campaign: Campaign, error: Exception) -> None:
    """A try (the planner and its batches) failed: the DISPATCH_MAX_TRIES-th in a row pauses the campaign; before
    that the supervisor plans it again once its heartbeat is stale."""
    tries = Campaign.objects.filter(pk=campaign.pk).values_list("dispatch_tries", flat=True).first() or 0
    if tries >= settings.DISPATCH_MAX_TRIES:
        campaign_dispatch_give_up(
            campaign=campaign,
            why=f"preparing its messages failed {tries} times in a row ({type(error).__name__}: {error})",
        )


def campaign_dispatch_give_up(*, campaign: Campaign, why: str) -> bool:
    """Pause a campaign whose dispatch keeps failing, saying why on its page; resuming it tries again."""
    reason = f"Paused automatically: {why}. Nothing more is sent until it is resumed."
    reason = reason[: Campaign._meta.get_field("hold_reason").max_length]
    with transaction.atomic():
        held = campaign_hold(campaign_id=campaign.pk, status=Campaign.Status.PAUSED, reason=reason)
        if held:
            Campaign.objects.filter(pk=campaign.pk).update(dispatch_tries=0)
            campaign_event_record(campaign=campaign, kind=CampaignEvent.Kind.AUTO_PAUSED, detail=reason)
    if held:
        logger.warning("campaign %s: %s", campaign.pk, reason)
    return held


def _hold_for_window(campaign: Campaign) -> bool:
    """Outside 09:00-21:00 IST a promotional campaign is held until the window opens (True)."""
    opens_at = promotional_window_opens_at(clock.now())
    if opens_at is None:
        return False
    local = opens_at.astimezone(IST)
    reason = (
        "Promotional messages may only be sent between 09:00 and 21:00 IST, so the rest of this campaign is "
        f"held until {local:%H:%M} IST on {local:%-d %b}; it then continues where it stopped."
    )
    with transaction.atomic():
        if campaign_hold(campaign_id=campaign.pk, status=Campaign.Status.SCHEDULED, reason=reason, until=opens_at):
            Campaign.objects.filter(pk=campaign.pk).update(dispatch_tries=0)  # held, not failing
            campaign_event_record(campaign=campaign, kind=CampaignEvent.Kind.HELD, detail=reason)
    return True


def _is_promotional(campaign: Campaign) -> bool:
    sender = campaign.template.sender
    return bool(sender and sender.is_promotional and campaign.template.channel == Channel.SMS)


class DispatchPlanner:
    """Cuts the audience still without a message into batches of DISPATCH_BATCH_SIZE customers and queues a task
    for each, reading only their ids (in id order, streamed: the planner's memory does not grow with the audience).

    A plan is numbered (Campaign.dispatch_plan); its batches count down Campaign.dispatch_batches_left, which the
    planner holds at one more than the batches queued until it has queued the last, so the batch that brings it to
    0, whichever worker runs it, marks the campaign prepared. A new plan (the supervisor restarting a dispatch whose
    worker died, a resumed campaign) replaces the count; a batch of an older plan that still runs does its work
    (the unique campaign-customer constraint keeps it from making a second message) without touching the count.
    """

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.batch_size = settings.DISPATCH_BATCH_SIZE

    def run(self) -> None:
        campaign = self.campaign
        with transaction.atomic():
            locked = Campaign.objects.select_for_update().filter(pk=campaign.pk, status=Campaign.Status.DISPATCHING)
            if not locked.update(dispatch_plan=F("dispatch_plan") + 1, dispatch_batches_left=1):
                return
            plan = Campaign.objects.filter(pk=campaign.pk).values_list("dispatch_plan", flat=True).get()
        audience = campaign_audience(campaign)
        skipped = duplicate_recipients(audience, campaign.template.channel)
        # Customers who already have a message were handled by an earlier (interrupted) try: resume after them.
        ids = (
            audience.exclude(pk__in=Message.objects.filter(campaign=campaign).values("customer_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
            .iterator(chunk_size=self.batch_size)
        )
        promotional = _is_promotional(campaign)
        wanted = (pk for pk in ids if pk not in skipped)
        number = 0
        while batch := list(islice(wanted, self.batch_size)):
            number += 1
            if promotional and _hold_for_window(campaign):
                return
            counted = Campaign.objects.filter(
                pk=campaign.pk, status=Campaign.Status.DISPATCHING, dispatch_plan=plan
            ).update(dispatch_batches_left=F("dispatch_batches_left") + 1, heartbeat_at=clock.now())
            if not counted:
                return  # paused, cancelled, held or planned again meanwhile
            _batch_task().delay(campaign.pk, plan, batch, number)
        with transaction.atomic():
            _batch_done(campaign, plan, _locked_state(campaign.pk))


def _batch_task():
    from campaigns.sending.tasks import campaign_dispatch_batch_task  # the tasks module imports this one

    return campaign_dispatch_batch_task


def _locked_state(campaign_id: int) -> tuple:
    """(status, plan, batches left) of the campaign, its row locked for the rest of the caller's transaction: a
    batch is ordered against pause, cancel and the other batches of the campaign."""
    state = Campaign.objects.select_for_update().filter(pk=campaign_id)
    return state.values_list("status", "dispatch_plan", "dispatch_batches_left").first() or (None, None, 0)


def _batch_done(campaign: Campaign, plan: int, state: tuple, batch: int = 0, **changes) -> None:
    """Count batch `batch` (0: the planner's own share) of `plan` done, once however often it runs, saving `changes`
    on the campaign in the same statement; the last one marks the campaign prepared. In the caller's transaction,
    with the `state` it locked (which orders the runs of one batch too)."""
    status, current_plan, left = state
    if batch and current_plan == plan and left:
        done = DispatchBatchDone.objects.filter(campaign_id=campaign.pk, plan=plan, number=batch)
        if done.exists():
            left = 0  # counted by an earlier run of this batch
        else:
            DispatchBatchDone.objects.create(campaign_id=campaign.pk, plan=plan, number=batch)
    last = status == Campaign.Status.DISPATCHING and current_plan == plan and left == 1
    if current_plan == plan and left:
        changes["dispatch_batches_left"] = left - 1
    if last:
        changes.update(status=Campaign.Status.DISPATCHED, dispatched_at=clock.now(), heartbeat_at=clock.now())
    if changes:
        Campaign.objects.filter(pk=campaign.pk).update(**changes)
    if last:
        campaign_event_record(
            campaign=campaign,
            kind=CampaignEvent.Kind.HANDED_OVER,
            detail="Every recipient was checked and each message to send was queued for the gateway",
        )


class Dispatcher:
    """Prepares one batch of a campaign's customers (given by id): checks each, renders, charges and stores them."""

    def __init__(self, campaign: Campaign, *, plan: int = 0, batch: int = 0):
        self.campaign = campaign
        self.plan, self.batch = plan, batch
        self.channel = campaign.template.channel
        sender = campaign.template.sender
        self.promotional = _is_promotional(campaign)
        self.ncpr_category = sender.ncpr_category if sender else 0
        self.capped = campaign_is_capped(campaign)  # held to the org's frequency cap, when it has one
        self.send_task_size = settings.DISPATCH_SEND_TASK_SIZE or settings.DISPATCH_BATCH_SIZE
        self.renderer = MessageRenderer(campaign)
        # Customers' JSON attributes are read only for a slot that shows one (a coupon reminder's coupon included).
        shows_attribute = any(
            slot.get("source") == "field" and slot.get("value", "") not in CUSTOMER_FIELDS
            for slot in campaign.slot_values
        )
        self.customer_columns = [*AudienceCustomer.COLUMNS, *(["attributes"] if shows_attribute else [])]
        self.coupon_date = coupon_expiry_date(campaign) if campaign.kind == Campaign.Kind.COUPON_REMINDER else None

    def prepare(self, customer_ids: list[int]) -> bool:
        """Prepare the batch; False when the campaign stopped running meanwhile (nothing was written)."""
        if self.promotional and _hold_for_window(self.campaign):
            return False
        try:
            return self._dispatch_batch(self._customers(customer_ids, fresh=False))
        except IntegrityError:
            # A batch of another plan (a restarted dispatch) prepared some of these customers meanwhile: the unique
            # campaign-customer constraint refused the whole batch; it is prepared again without them.
            logger.info("campaign %s: a batch met messages prepared meanwhile; preparing the rest", self.campaign.pk)
            return self._dispatch_batch(self._customers(customer_ids, fresh=True))

    def _customers(self, customer_ids: list[int], *, fresh: bool) -> list[AudienceCustomer]:
        customers = among(Customer.objects.all(), "pk", customer_ids)
        if fresh:
            customers = customers.exclude(
                Exists(Message.objects.filter(campaign_id=self.campaign.pk, customer_id=OuterRef("pk")))
            )
        rows = customers.order_by("pk").values_list(*self.customer_columns)
        return [AudienceCustomer(*row) for row in rows]

    def _dispatch_batch(self, customers: list[AudienceCustomer]) -> bool:
        drafts = self._drafts_for(customers)
        to_render = [d for d in drafts if d.status == Message.Status.QUEUED]
        if connection.vendor == "postgresql":
            # Ids first, so each message is rendered (its short link codes carry the id) and written once. Rendered
            # before the batch's transaction: the short links it mints commit at once, so a batch in another worker
            # uses them rather than waiting for this batch to commit.
            for draft, pk in zip(drafts, next_message_ids(len(drafts)), strict=True):
                draft.pk = pk
            self.renderer.render(to_render)
            with transaction.atomic():
                if self.capped:
                    state = _locked_state(self.campaign.pk)
                    if state[0] != Campaign.Status.DISPATCHING:
                        return False
                    self._store(drafts, to_render, state)
                    messages_copy(self.campaign.pk, self.channel, drafts)
                    return True
                # Written before the campaign's and the org's rows are locked: a batch in another worker waits only
                # for this one's charge and commit, not for its rows to be written. The few the credits cannot pay
                # for are marked not sent after.
                messages_copy(self.campaign.pk, self.channel, drafts)
                state = _locked_state(self.campaign.pk)
                if state[0] != Campaign.Status.DISPATCHING:
                    transaction.set_rollback(True)
                    return False
                unpaid = self._store(drafts, to_render, state)
                if unpaid:
                    among(Message.objects.all(), "pk", [d.pk for d in unpaid]).update(
                        status=Message.Status.NOT_SENT, reason_code="out_of_credits", finished_at=unpaid[0].finished_at
                    )
            return True
        with transaction.atomic():
            state = _locked_state(self.campaign.pk)
            if state[0] != Campaign.Status.DISPATCHING:
                return False
            # No sequence to take ids from: the rows are created here and completed after rendering.
            created = Message.objects.bulk_create(
                [d.message(campaign_id=self.campaign.pk, channel=self.channel) for d in drafts]
            )
            for draft, message in zip(drafts, created, strict=True):
                draft.pk = message.pk
            self.renderer.render(to_render)
            self._store(drafts, to_render, state)
            Message.objects.bulk_update(
                [d.message(campaign_id=self.campaign.pk, channel=self.channel) for d in drafts], _UPDATE_FIELDS
            )
        return True

    def _store(self, drafts: list[MessageDraft], to_render: list[MessageDraft], state: tuple) -> list[MessageDraft]:
        """Charge the batch and queue what is to be sent (the caller writes the rows), in the batch's transaction
        with the campaign's row locked. Returns the drafts the org's credits could not pay for (now not sent)."""
        # From here the org's row is locked: a batch of another campaign of the org waits, so the frequency cap
        # counts what that batch prepared, and credits are never overspent.
        org = _locked_org(self.campaign.org_id)
        if self.capped:
            self._apply_frequency_cap(org, to_render)
        payable = [d for d in to_render if d.status == Message.Status.QUEUED]
        charged = _reserve_credits(org, payable)
        _batch_done(
            self.campaign,
            self.plan,
            state,
            self.batch,
            credits_charged=F("credits_charged") + charged,
            heartbeat_at=clock.now(),
            dispatch_tries=0,
        )
        queued_ids = [d.pk for d in to_render if d.status == Message.Status.QUEUED]
        if queued_ids and any(self.renderer.short_link_ids.values()):
            # Before they are handed over: from then on their links resolve from the cache, with the database down
            # too. A failure here is logged and costs nothing but that.
            transaction.on_commit(
                lambda: campaign_links_cache(campaign_id=self.campaign.pk, message_ids=queued_ids), robust=True
            )
        for start in range(0, len(queued_ids), self.send_task_size):
            chunk = queued_ids[start : start + self.send_task_size]
            transaction.on_commit(lambda chunk=chunk: messages_send_task.delay(chunk))
        return [d for d in payable if d.status != Message.Status.QUEUED]

    def _drafts_for(self, customers: list[AudienceCustomer]) -> list[MessageDraft]:
        if self.coupon_date is not None:
            self._attach_coupons(customers)
        messages = []
        for customer in customers:
            # The planner left out customers sharing a number or address with an earlier one (one message each).
            recipient = normalised_recipient(self.channel, customer)
            message = MessageDraft(customer, recipient or "")
            subscribed = customer.sms_subscribed if self.channel == Channel.SMS else customer.email_subscribed
            if not subscribed:
                message.mark_not_sent("unsubscribed")
            elif not recipient:
                message.recipient = (customer.mobile if self.channel == Channel.SMS else customer.email)[:254]
                message.mark_not_sent("validation_failed")
            messages.append(message)
        if self.promotional:
            candidates = [m for m in messages if m.status == Message.Status.QUEUED]
            blocked = ndnc_blocked_mobiles(
                org=self.campaign.org, mobiles=[m.recipient for m in candidates], category=self.ncpr_category
            )
            for message in candidates:
                if message.recipient in blocked:
                    message.mark_not_sent("ndnc_precheck")
        return messages

    def _apply_frequency_cap(self, org: Org, drafts: list[MessageDraft]) -> None:
        """Recipients who already have the org's cap of promotional messages are not sent: one query per batch, none
        when the org has no cap."""
        candidates = [d for d in drafts if d.status == Message.Status.QUEUED]
        if not candidates:
            return
        over = capped_customers(
            org=org,
            campaign_id=self.campaign.pk,
            channel=self.channel,
            customer_ids=[d.customer.pk for d in candidates],
        )
        for draft in candidates:
            if draft.customer.pk in over:
                draft.mark_not_sent(FREQUENCY_CAP_REASON)

    def _attach_coupons(self, customers: list[AudienceCustomer]) -> None:
        """Coupon slots read `coupon_code` and `coupon_expiry` as customer attributes (in memory only)."""
        coupons = {}
        for customer_id, code, expires_on in (
            Coupon.objects.filter(customer_id__in=[c.pk for c in customers], expires_on=self.coupon_date)
            .order_by("-code")
            .values_list("customer_id", "code", "expires_on")
        ):
            coupons[customer_id] = (code, expires_on)
        with_coupon_values(customers, coupons)


def _locked_org(org_id: int) -> Org:
    """The org's credits and frequency cap, its row locked for the rest of the batch's transaction: concurrent
    campaigns of one org take credits, and count messages against the cap, one after the other."""
    return (
        Org.objects.select_for_update().only("credits", "frequency_cap_messages", "frequency_cap_days").get(pk=org_id)
    )


def _reserve_credits(org: Org, messages: list[MessageDraft]) -> int:
    """Take one credit per segment of the locked `org`; messages it cannot pay for are not sent (never overspent).

    Returns the credits taken.
    """
    org_id = org.pk
    available = org.credits
    charged = 0
    for message in messages:
        if message.segments <= available:
            available -= message.segments
            charged += message.segments
        else:
            message.mark_not_sent("out_of_credits")
    if charged:
        Org.objects.filter(pk=org_id).update(credits=F("credits") - charged)
    return charged
