"""Sending rules of an org: the frequency cap, at most N promotional messages per customer in D days; and whether a
launch needs a second person's approval (the switch is here, the rule in campaigns.lifecycle.approval).

Indian brands cap promotional messages to keep complaints (TRAI's rules on unsolicited commercial communication)
and unsubscribes down. When an org has a cap, dispatch checks every recipient of a promotional campaign against it
and records the ones over it as not sent, reason `frequency_cap`, counted and explained like every other reason.

What is capped
    A campaign is promotional, and so capped, when it is an SMS campaign whose sender (DLT header) is promotional,
    as the dispatcher tells them apart for the NDNC register and the 09:00-21:00 window; transactional and
    service senders are never capped. Every email campaign is capped: linktrack's email campaigns are bulk mail
    with an unsubscribe link in every message (what mail providers require of marketing mail), and an email
    template has no category that could mark it transactional. An org that sends service email through linktrack
    and wants it never held back leaves the cap off.

What counts
    A recipient is over the cap when `frequency_cap_messages` messages of the campaign's channel (an SMS never
    counts against email, nor the other way round) from the org's promotional campaigns were created for them in
    the last `frequency_cap_days` x 24 hours before the check (a rolling period, the same for every time zone).
    Counted are the messages handed to the gateway or being handed over: queued, submitting, sent, delivered, not
    delivered and unknown. A message that was handed over may have reached the customer even when a receipt later
    says otherwise, and a late failure must not reopen the allowance after the fact. Messages that were never sent
    (unsubscribed, NDNC, over the cap, cancelled...) do not count, nor do the campaign's own messages (a recipient
    has one message per campaign anyway, and a resumed campaign must not count its first batches). Each run of a
    recurring campaign, and each resend, is a campaign of its own and counts.

When it is checked
    Per batch, after rendering and before credits are taken, with one query (the batch's customers who already
    reached the cap), while the batch holds the org's row lock that the credit check takes anyway: two campaigns of
    one org sending at the same moment take turns, and each batch sees the messages the other one has prepared, so
    together they never go past the cap either. The cap is read from that locked row, so a change made while a
    campaign sends applies to its next batch. With no cap there is no query at all.

Resending
    `frequency_cap` is offered for "resend to these": the resend is itself checked against the cap when it is sent,
    so made a few days later it reaches the customers whose earlier messages have left the period, and no one else.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from campaigns.models import Campaign, Channel, Org, SenderId, User
from delivery.bulk import among
from delivery.models import Message

FREQUENCY_CAP_REASON = "frequency_cap"
MESSAGES_MAX = 50
DAYS_MAX = 30
DEFAULT_DAYS = 7
MESSAGES_IN_WORDS = f"Give a number of messages from 1 to {MESSAGES_MAX}, or leave it empty for no limit."
DAYS_IN_WORDS = f"Give a number of days from 1 to {DAYS_MAX}."
# What a customer has been sent or is being sent: everything but "not sent".
COUNTED_STATUSES = (
    Message.Status.QUEUED,
    Message.Status.SUBMITTING,
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.NOT_DELIVERED,
    Message.Status.UNKNOWN,
)


def is_capped(*, channel: str, sender: SenderId | None) -> bool:
    """Whether campaigns of this channel and sender are promotional, so held to the org's frequency cap."""
    if channel == Channel.EMAIL:
        return True
    return bool(sender and sender.is_promotional)


def campaign_is_capped(campaign: Campaign) -> bool:
    return is_capped(channel=campaign.template.channel, sender=campaign.template.sender)


def capped_customers(
    *, org: Org, campaign_id: int, channel: str, customer_ids: Iterable[int], moment: datetime | None = None
) -> set[int]:
    """The customers among `customer_ids` who already have the org's cap of promotional messages on `channel` in
    its period (see the module's docstring for what counts). One query; none when the org has no cap."""
    cap = org.frequency_cap_messages
    if not cap:
        return set()
    since = (moment or timezone.now()) - timedelta(days=org.frequency_cap_days)
    counted = Message.objects.filter(
        campaign__org_id=org.pk, channel=channel, created_at__gte=since, status__in=COUNTED_STATUSES
    ).exclude(campaign_id=campaign_id)
    if channel == Channel.SMS:
        counted = counted.filter(campaign__template__sender__category=SenderId.Category.PROMOTIONAL)
    over = (
        among(counted, "customer", list(customer_ids))
        .order_by()
        .values("customer_id")
        .annotate(messages=Count("pk"))
        .filter(messages__gte=cap)
        .values_list("customer_id", flat=True)
    )
    return set(over)


def _limit_in_words(org: Org) -> str:
    messages = "message" if org.frequency_cap_messages == 1 else "messages"
    days = "day" if org.frequency_cap_days == 1 else "days"
    return f"{org.frequency_cap_messages} promotional {messages} per customer in {org.frequency_cap_days} {days}"


def frequency_cap_in_words(org: Org) -> str:
    """The org's rule in a manager's words; empty when it has none."""
    if not org.frequency_cap_messages:
        return ""
    return f"At most {_limit_in_words(org)}: recipients over it are not sent"


def campaign_frequency_cap_note(campaign: Campaign) -> str:
    """One line for the campaign preview: the org's rule, or that it does not apply here; empty without a rule."""
    if not campaign.org.frequency_cap_messages:
        return ""  # asked before the campaign's sender, which the preview may not have loaded
    if campaign_is_capped(campaign):
        return f"{frequency_cap_in_words(campaign.org)}."
    return f"The limit of {_limit_in_words(campaign.org)} does not apply: this campaign's sender is not promotional."


def frequency_cap_clean(*, messages: int | None, days: int | None) -> tuple[int | None, int]:
    """The cap and its period as the org stores them; anything else is refused in words, next to its field."""
    if days is None:
        days = DEFAULT_DAYS
    problems = {}
    if messages is not None and not 1 <= messages <= MESSAGES_MAX:
        problems["frequency_cap_messages"] = MESSAGES_IN_WORDS
    if not 1 <= days <= DAYS_MAX:
        problems["frequency_cap_days"] = DAYS_IN_WORDS
    if problems:
        raise ValidationError(problems)
    return messages, days


@transaction.atomic
def frequency_cap_set(*, org: Org, messages: int | None, days: int | None) -> Org:
    """Set (or, with `messages` None, turn off) the org's frequency cap. Campaigns sending now apply it from their
    next batch."""
    messages, days = frequency_cap_clean(messages=messages, days=days)
    org = Org.objects.select_for_update().get(pk=org.pk)
    org.frequency_cap_messages, org.frequency_cap_days = messages, days
    org.full_clean()
    org.save(update_fields=["frequency_cap_messages", "frequency_cap_days", "updated_at"])
    return org


@transaction.atomic
def launch_approval_set(*, org: Org, needs_approval: bool, user: User) -> Org:
    """Switch launch approval on or off for the org, recording who did it and when (shown on the Sending rules page).

    Switching it off launches none of the campaigns waiting for approval: each is still approved or withdrawn."""
    org = Org.objects.select_for_update().get(pk=org.pk)
    if org.launch_needs_approval == needs_approval:
        return org
    org.launch_needs_approval = needs_approval
    org.launch_approval_changed_by, org.launch_approval_changed_at = user, timezone.now()
    org.save(
        update_fields=[
            "launch_needs_approval",
            "launch_approval_changed_by",
            "launch_approval_changed_at",
            "updated_at",
        ]
    )
    return org


def campaigns_awaiting_approval(*, org: Org) -> int:
    """How many of the org's campaigns wait for approval (the Sending rules page says so next to the switch)."""
    return Campaign.objects.filter(org=org, status=Campaign.Status.AWAITING_APPROVAL).count()
