"""Dispatch: expand a campaign's audience into messages, check and render each, and hand them to delivery.

This is the one place that calls into both linktrack (short links) and delivery (messages, sending).
Work is done in batches: the number of queries grows with recipients / batch size, never with recipients.
"""

from itertools import islice

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.audience import audience_customers
from campaigns.models import Campaign, Channel, Customer, Org
from campaigns.rendering import MessageRenderer
from delivery.models import Message
from delivery.tasks import messages_send_task


def campaign_dispatch(*, campaign_id: int) -> None:
    campaign = Campaign.objects.select_related("org", "template__sender").get(pk=campaign_id)
    if campaign.status != Campaign.Status.DISPATCHING:
        return
    batch_size = settings.DISPATCH_BATCH_SIZE
    # Customers who already have a message were handled by an earlier (interrupted) run: resume after them.
    audience = (
        audience_customers(campaign=campaign)
        .exclude(pk__in=Message.objects.filter(campaign=campaign).values("customer_id"))
        .order_by("pk")
        .iterator(chunk_size=batch_size)
    )
    renderer = MessageRenderer(campaign)
    while batch := list(islice(audience, batch_size)):
        _dispatch_batch(campaign, batch, renderer)
    Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DISPATCHING).update(
        status=Campaign.Status.DISPATCHED, dispatched_at=timezone.now()
    )


@transaction.atomic
def _dispatch_batch(campaign: Campaign, customers: list[Customer], renderer: MessageRenderer) -> None:
    channel = campaign.template.channel
    messages = [_message_for(campaign, channel, customer) for customer in customers]
    Message.objects.bulk_create(messages)
    to_send = [m for m in messages if m.status == Message.Status.QUEUED]
    renderer.render(to_send)
    _reserve_credits(campaign.org_id, [m for m in to_send if m.status == Message.Status.QUEUED])
    Message.objects.bulk_update(messages, ["body", "segments", "status", "reason_code", "finished_at"])
    queued_ids = [m.pk for m in to_send if m.status == Message.Status.QUEUED]
    if queued_ids:
        transaction.on_commit(lambda: messages_send_task.delay(queued_ids))


def _message_for(campaign: Campaign, channel: str, customer: Customer) -> Message:
    recipient = customer.mobile if channel == Channel.SMS else customer.email
    subscribed = customer.sms_subscribed if channel == Channel.SMS else customer.email_subscribed
    message = Message(campaign=campaign, customer=customer, channel=channel, recipient=recipient)
    if not subscribed:
        _not_sent(message, "unsubscribed")
    elif not _valid_recipient(channel, recipient):
        _not_sent(message, "validation_failed")
    return message


def _valid_recipient(channel: str, recipient: str) -> bool:
    if not recipient:
        return False
    if channel == Channel.EMAIL:
        return "@" in recipient
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(recipient, None))
    except phonenumbers.NumberParseException:
        return False


def _not_sent(message: Message, reason_code: str) -> None:
    message.mark_not_sent(reason_code)


def _reserve_credits(org_id: int, messages: list[Message]) -> None:
    """Take one credit per segment; messages the org cannot pay for are not sent (never overspent)."""
    org = Org.objects.select_for_update().get(pk=org_id)
    available = org.credits
    for message in messages:
        if message.segments <= available:
            available -= message.segments
        else:
            _not_sent(message, "out_of_credits")
    Org.objects.filter(pk=org_id).update(credits=available)
