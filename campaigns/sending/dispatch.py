"""Dispatch: expand a campaign's audience into messages, check and render each, and hand them to delivery.

This is the one place that calls into both linktrack (short links) and delivery (messages, sending).
Work is done in batches: the number of queries grows with recipients / batch size, never with recipients.

Per recipient, in this order: already has a message (a resumed run) or shares a number/address with an earlier
recipient (one message per number), unsubscribed, invalid or missing number/address, NDNC register (promotional
senders only), rendering (DLT match), the org's frequency cap (promotional campaigns, see campaigns.sending.rules),
credits. Each refusal is a not-sent reason from the catalogue.
"""

import logging
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from campaigns.base import clock
from campaigns.base.history import campaign_event_record
from campaigns.customers.audience import ndnc_blocked_mobiles
from campaigns.customers.campaign_audience import campaign_audience, coupon_expiry_date
from campaigns.dlt.rendering import CUSTOMER_FIELDS, with_coupon_values
from campaigns.models import Campaign, CampaignEvent, Channel, Coupon, Org
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
    """Prepare and queue a campaign's messages, from where an earlier try stopped.

    Each try counts (Campaign.dispatch_tries, back to 0 once a batch is done). A try that fails is logged and left
    for the supervisor to restart; the DISPATCH_MAX_TRIES-th failing try in a row pauses the campaign instead, with
    the reason on its page, so a fault that would recur is not retried forever."""
    campaign = Campaign.objects.select_related("org", "template__sender", "resend_of").get(pk=campaign_id)
    if campaign.status != Campaign.Status.DISPATCHING:
        return
    Campaign.objects.filter(pk=campaign_id).update(dispatch_tries=F("dispatch_tries") + 1)
    try:
        Dispatcher(campaign).run()
    except Exception as error:  # whatever it is, the campaign must not stay "sending" with nobody at work on it
        logger.exception("campaign %s: preparing its messages failed", campaign_id)
        tries = Campaign.objects.filter(pk=campaign_id).values_list("dispatch_tries", flat=True).first() or 0
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


class Dispatcher:
    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.channel = campaign.template.channel
        sender = campaign.template.sender
        self.promotional = bool(sender and sender.is_promotional and self.channel == Channel.SMS)
        self.ncpr_category = sender.ncpr_category if sender else 0
        self.capped = campaign_is_capped(campaign)  # held to the org's frequency cap, when it has one
        self.batch_size = settings.DISPATCH_BATCH_SIZE
        self.heartbeat: datetime | None = None  # what this dispatcher last wrote on the campaign
        self.send_task_size = settings.DISPATCH_SEND_TASK_SIZE or self.batch_size
        self.renderer = MessageRenderer(campaign)
        # Customers' JSON attributes are read only for a slot that shows one (a coupon reminder's coupon included).
        shows_attribute = any(
            slot.get("source") == "field" and slot.get("value", "") not in CUSTOMER_FIELDS
            for slot in campaign.slot_values
        )
        self.customer_columns = [*AudienceCustomer.COLUMNS, *(["attributes"] if shows_attribute else [])]
        self.coupon_date = coupon_expiry_date(campaign) if campaign.kind == Campaign.Kind.COUPON_REMINDER else None
        # One message per number/address over the whole campaign, including what an interrupted run prepared.
        self.seen_recipients: set[str] = set(
            Message.objects.filter(campaign=campaign).values_list("recipient", flat=True).iterator(chunk_size=5000)
        )

    def audience(self) -> Iterator[AudienceCustomer]:
        # Customers who already have a message were handled by an earlier (interrupted) run: resume after them.
        rows = (
            campaign_audience(self.campaign)
            .exclude(pk__in=Message.objects.filter(campaign=self.campaign).values("customer_id"))
            .order_by("pk")
            .values_list(*self.customer_columns)
            .iterator(chunk_size=self.batch_size)
        )
        return (AudienceCustomer(*row) for row in rows)

    def run(self) -> None:
        audience = self.audience()
        while batch := list(islice(audience, self.batch_size)):
            if self.promotional and self._hold_for_window():
                return
            if not self._dispatch_batch(batch):
                return  # paused, cancelled or held meanwhile: whoever did it has withdrawn what was queued
        with transaction.atomic():
            if Campaign.objects.filter(pk=self.campaign.pk, status=Campaign.Status.DISPATCHING).update(
                status=Campaign.Status.DISPATCHED, dispatched_at=clock.now(), heartbeat_at=clock.now()
            ):
                campaign_event_record(
                    campaign=self.campaign,
                    kind=CampaignEvent.Kind.HANDED_OVER,
                    detail="Every recipient was checked and each message to send was queued for the gateway",
                )

    def _hold_for_window(self) -> bool:
        opens_at = promotional_window_opens_at(clock.now())
        if opens_at is None:
            return False
        local = opens_at.astimezone(IST)
        reason = (
            "Promotional messages may only be sent between 09:00 and 21:00 IST, so the rest of this campaign is "
            f"held until {local:%H:%M} IST on {local:%-d %b}; it then continues where it stopped."
        )
        with transaction.atomic():
            if campaign_hold(
                campaign_id=self.campaign.pk, status=Campaign.Status.SCHEDULED, reason=reason, until=opens_at
            ):
                Campaign.objects.filter(pk=self.campaign.pk).update(dispatch_tries=0)  # held, not failing
                campaign_event_record(campaign=self.campaign, kind=CampaignEvent.Kind.HELD, detail=reason)
        return True

    @transaction.atomic
    def _dispatch_batch(self, customers: list[AudienceCustomer]) -> bool:
        # The campaign row lock orders this batch against pause, cancel and a second dispatcher of the campaign.
        state = Campaign.objects.select_for_update().filter(pk=self.campaign.pk).values_list("status", "heartbeat_at")
        status, heartbeat = state.first() or (None, None)
        if status != Campaign.Status.DISPATCHING:
            return False
        if self.heartbeat is None or heartbeat != self.heartbeat:
            # Our first batch, or someone else wrote the campaign since our last one (a second dispatcher, the
            # supervisor restarting one): customers who got a message meanwhile are skipped. Not asked while the
            # heartbeat is the one we wrote: without fresh statistics for a new campaign, PostgreSQL answers it by
            # reading every message the campaign has so far, for each batch. The unique campaign-customer
            # constraint stands behind both.
            already = set(
                among(
                    Message.objects.filter(campaign=self.campaign), "customer", [c.pk for c in customers]
                ).values_list("customer_id", flat=True)
            )
            customers = [c for c in customers if c.pk not in already]
        drafts = self._drafts_for(customers)
        to_render = [d for d in drafts if d.status == Message.Status.QUEUED]
        postgres = connection.vendor == "postgresql"
        if postgres:
            # Ids first, so each message is rendered (its short link codes carry the id) and written once.
            for draft, pk in zip(drafts, next_message_ids(len(drafts)), strict=True):
                draft.pk = pk
        else:
            # No sequence to take ids from: the rows are created here and completed after rendering.
            created = Message.objects.bulk_create(
                [d.message(campaign_id=self.campaign.pk, channel=self.channel) for d in drafts]
            )
            for draft, message in zip(drafts, created, strict=True):
                draft.pk = message.pk
        self.renderer.render(to_render)
        # From here the org's row is locked: a batch of another campaign of the org waits, so the frequency cap
        # counts what that batch prepared, and credits are never overspent.
        org = _locked_org(self.campaign.org_id)
        if self.capped:
            self._apply_frequency_cap(org, to_render)
        charged = _reserve_credits(org, [d for d in to_render if d.status == Message.Status.QUEUED])
        if postgres:
            messages_copy(self.campaign.pk, self.channel, drafts)
        else:
            Message.objects.bulk_update(
                [d.message(campaign_id=self.campaign.pk, channel=self.channel) for d in drafts], _UPDATE_FIELDS
            )
        heartbeat = clock.now()
        Campaign.objects.filter(pk=self.campaign.pk).update(
            credits_charged=F("credits_charged") + charged, heartbeat_at=heartbeat, dispatch_tries=0
        )
        self.heartbeat = heartbeat
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
        return True

    def _drafts_for(self, customers: list[AudienceCustomer]) -> list[MessageDraft]:
        if self.coupon_date is not None:
            self._attach_coupons(customers)
        messages = []
        for customer in customers:
            recipient = normalised_recipient(self.channel, customer)
            if recipient and recipient in self.seen_recipients:
                continue  # the same number twice in the audience: one message
            if recipient:
                self.seen_recipients.add(recipient)
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
