"""Read-side queries for campaign reports and the View Details page."""

from dataclasses import dataclass
from functools import cached_property

import phonenumbers
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from campaigns.base.runs import campaign_owner
from campaigns.base.shares import shares_in_tenths
from campaigns.models import Channel, SenderId
from delivery import reasons
from delivery.models import ERASED_RECIPIENT, Message, MessageCounts, Proof
from linktrack.models import Click

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class DeliveryCounts:
    total: int
    queued: int  # not yet handed to the gateway
    sent: int  # accepted by the gateway (delivered, not delivered, unknown and still waiting)
    waiting: int  # accepted, no receipt yet: counted with "not delivered" (reason "pending") until one comes
    delivered: int
    not_delivered: int  # failed after the gateway accepted them (receipts), and the ones still waiting
    not_sent: int
    unknown: int

    @cached_property
    def _shares(self) -> dict[str, int]:
        """The share of each outcome that no other contains, in tenths of a percent adding up to 100.0% (largest
        remainder); the figures the page shows add these up, so delivered, not delivered, not sent, unknown and
        queued show 100.0% between them, and so do queued, sent and not sent."""
        parts = {
            "queued": self.queued,
            "delivered": self.delivered,
            "failed": self.not_delivered - self.waiting,
            "waiting": self.waiting,
            "not_sent": self.not_sent,
            "unknown": self.unknown,
        }
        return dict(zip(parts, shares_in_tenths(list(parts.values())), strict=True))

    def _percent_of(self, *parts: str) -> float:
        return sum(self._shares[part] for part in parts) / 10

    def percent(self, count: int) -> float:
        """Any count's share, rounded on its own (the outcomes' shares are the properties below)."""
        return round(100 * count / self.total, 1) if self.total else 0.0

    @property
    def queued_percent(self) -> float:
        return self._percent_of("queued")

    @property
    def handed_over_percent(self) -> float:
        return self._percent_of("delivered", "failed", "waiting", "not_sent", "unknown")

    @property
    def delivered_percent(self) -> float:
        return self._percent_of("delivered")

    @property
    def not_delivered_percent(self) -> float:
        return self._percent_of("failed", "waiting")

    @property
    def failed_percent(self) -> float:
        """Not delivered after a receipt said so (without the messages still waiting for one)."""
        return self._percent_of("failed")

    @property
    def not_sent_percent(self) -> float:
        return self._percent_of("not_sent")

    @property
    def sent_percent(self) -> float:
        return self._percent_of("delivered", "failed", "waiting", "unknown")

    @property
    def unknown_percent(self) -> float:
        return self._percent_of("unknown")

    @property
    def waiting_percent(self) -> float:
        return self._percent_of("waiting")

    def group_percent(self, group: str) -> float:
        """The share of a group of reasons (not sent, not delivered, unknown) as the page shows it."""
        return {
            reasons.NOT_SENT: self.not_sent_percent,
            reasons.NOT_DELIVERED: self.not_delivered_percent,
            reasons.UNKNOWN: self.unknown_percent,
        }[group]


def messages_by_status(*, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each campaign's messages per status, from the message counters (delivery.models.MessageCounts). One query."""
    by_campaign: dict[int, dict[str, int]] = {}
    rows = (
        MessageCounts.objects.filter(campaign_id__in=campaign_ids)
        .values_list("campaign_id", "status")
        .annotate(n=Sum("messages"))
        .order_by()
    )
    for campaign_id, status, n in rows:
        if n:
            by_campaign.setdefault(campaign_id, {})[status] = n
    return by_campaign


def first_sent_at(*, campaign_id: int):
    """When the campaign's first message was handed to the gateway (None before), from the message counters."""
    return MessageCounts.objects.filter(campaign_id=campaign_id).aggregate(first=Min("first_sent_at"))["first"]


def delivery_counts(*, campaign_id: int) -> DeliveryCounts:
    return delivery_counts_from(messages_by_status(campaign_ids=[campaign_id]).get(campaign_id, {}))


def delivery_counts_from(by_status: dict[str, int], *, delivery_reported: bool = True) -> DeliveryCounts:
    """The report's figures from the number of messages in each status; messages still waiting for a receipt count as
    sent and as not delivered (pending), as View Details shows them. Without `delivery_reported` (SMS from a
    promotional sender, Template.delivery_is_reported) no receipt is coming: they count as unknown."""
    s = Message.Status
    waiting = by_status.get(s.SENT, 0)
    delivered, not_delivered, unknown = (by_status.get(x, 0) for x in (s.DELIVERED, s.NOT_DELIVERED, s.UNKNOWN))
    if not delivery_reported:
        waiting, unknown = 0, unknown + waiting
    return DeliveryCounts(
        total=sum(by_status.values()),
        queued=by_status.get(s.QUEUED, 0) + by_status.get(s.SUBMITTING, 0),
        sent=waiting + delivered + not_delivered + unknown,
        waiting=waiting,
        delivered=delivered,
        not_delivered=not_delivered + waiting,
        not_sent=by_status.get(s.NOT_SENT, 0),
        unknown=unknown,
    )


@dataclass(frozen=True)
class MessageTotals:
    """A campaign's messages as its list row counts them."""

    messages: int
    delivered: int
    sent: int  # handed to the gateway: delivered, not delivered, unknown, still waiting for a receipt
    delivery_reported: bool  # False: SMS from a promotional sender (Template.delivery_is_reported)


NO_MESSAGES = MessageTotals(messages=0, delivered=0, sent=0, delivery_reported=True)
HANDED_OVER = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.NOT_DELIVERED, Message.Status.UNKNOWN)


def messages_by_campaign(*, campaign_ids: list[int]) -> dict[int, MessageTotals]:
    """The messages, delivered and sent of each campaign, and whether their delivery is reported; a recurring
    campaign's runs count for it. One query, of the message counters."""
    # Template.UNREPORTED_MESSAGES, as seen from the counters' campaign
    unreported = Q(
        campaign__template__channel=Channel.SMS,
        campaign__template__sender__category=SenderId.Category.PROMOTIONAL,
    )
    rows = (
        MessageCounts.objects.filter(Q(campaign_id__in=campaign_ids) | Q(campaign__parent_id__in=campaign_ids))
        .values(owner=campaign_owner(campaign_ids))
        .annotate(
            total=Coalesce(Sum("messages"), 0),
            delivered=Coalesce(Sum("messages", filter=Q(status=Message.Status.DELIVERED)), 0),
            sent=Coalesce(Sum("messages", filter=Q(status__in=HANDED_OVER)), 0),
            unreported=Coalesce(Sum("messages", filter=unreported), 0),
        )
        .order_by()
    )
    return {
        row["owner"]: MessageTotals(
            messages=row["total"],
            delivered=row["delivered"],
            sent=row["sent"],
            delivery_reported=not row["unreported"],
        )
        for row in rows
        if row["total"]
    }


# Which message statuses each group of reasons covers. Messages still waiting for a receipt are shown with the
# not-delivered reasons as "pending" (submitted, waiting for the gateway's response).
GROUP_STATUSES = {
    reasons.NOT_SENT: [Message.Status.NOT_SENT],
    reasons.NOT_DELIVERED: [Message.Status.NOT_DELIVERED, Message.Status.SENT],
    reasons.UNKNOWN: [Message.Status.UNKNOWN],
}
_DEFAULT_REASON = {
    Message.Status.SENT: "pending",
    Message.Status.NOT_SENT: "gateway_other",
    Message.Status.NOT_DELIVERED: "gateway_failed",
    Message.Status.UNKNOWN: "operator_no_report",
}


@dataclass(frozen=True)
class ReasonRow:
    reason: reasons.Reason
    count: int
    percent: float  # of all the campaign's messages, as on the campaign report
    group_percent: float  # of the messages in this group
    raw_codes: list[tuple[str, int]]  # the gateway's own codes behind a generic reason
    sample: list[Message]


def masked_recipient(recipient: str) -> str:
    """+919812345612 -> +91 98XXXXXX12; raj.kumar@example.com -> ra*******@example.com."""
    if recipient == ERASED_RECIPIENT:
        return "erased customer"
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return local[:2] + "*" * max(len(local) - 2, 1) + "@" + domain
    try:
        number = phonenumbers.parse(recipient, None)
        national = str(number.national_number)
        prefix = f"+{number.country_code} "
    except phonenumbers.NumberParseException:
        national, prefix = recipient.lstrip("+"), ""
    if len(national) <= 4:
        return prefix + "X" * len(national)
    return prefix + national[:2] + "X" * (len(national) - 4) + national[-2:]


def group_messages(*, campaign_id: int, group: str) -> QuerySet[Message]:
    return Message.objects.filter(campaign_id=campaign_id, status__in=GROUP_STATUSES[group])


def reason_of(message: Message) -> str:
    if message.status == Message.Status.SENT:
        return "pending"
    return message.reason_code or _DEFAULT_REASON.get(message.status, "gateway_other")


def reason_breakdown(*, campaign_id: int, group: str, total: int, group_share: float | None = None) -> list[ReasonRow]:
    """Each reason of a group with its count, share and a sample of the affected recipients.

    The reasons' shares of the group add up to 100.0%, and their shares of all `total` messages add up to the
    group's share, `group_share` when given (the campaign page's figure, DeliveryCounts.group_percent)."""
    counts: dict[str, int] = {}
    raw: dict[str, dict[str, int]] = {}
    codes_by_reason: dict[str, list[tuple[str, str]]] = {}
    rows = (
        group_messages(campaign_id=campaign_id, group=group)
        .values_list("status", "reason_code", "gateway_error")
        .annotate(n=Count("pk"))
        .values_list("status", "reason_code", "gateway_error", "n")
    )
    for status, reason_code, gateway_error, n in rows:
        code = "pending" if status == Message.Status.SENT else reason_code
        if code not in reasons.REASONS:  # an unmapped code: the generic reason of its group, raw code kept
            code = _DEFAULT_REASON[status]
        counts[code] = counts.get(code, 0) + n
        codes_by_reason.setdefault(code, []).append((status, reason_code))
        if gateway_error:
            raw.setdefault(code, {})
            raw[code][gateway_error] = raw[code].get(gateway_error, 0) + n
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    in_group = shares_in_tenths([count for _, count in ordered])
    if group_share is None:
        # Of all messages: the group's reasons beside the rest of the campaign, so the whole makes 100.0%.
        of_all = shares_in_tenths([count for _, count in ordered] + [max(total - sum(counts.values()), 0)])[:-1]
    else:
        of_all = shares_in_tenths([count for _, count in ordered], whole=round(group_share * 10))
    breakdown = []
    for (code, count), group_tenths, all_tenths in zip(ordered, in_group, of_all, strict=True):
        sample_filter = group_messages(campaign_id=campaign_id, group=group)
        if code == "pending":
            sample_filter = sample_filter.filter(status=Message.Status.SENT)
        else:
            stored = {reason_code for status, reason_code in codes_by_reason[code] if status != Message.Status.SENT}
            sample_filter = sample_filter.exclude(status=Message.Status.SENT).filter(reason_code__in=stored)
        breakdown.append(
            ReasonRow(
                reason=reasons.reason_for(code),
                count=count,
                percent=all_tenths / 10,
                group_percent=group_tenths / 10,
                raw_codes=sorted(raw.get(code, {}).items(), key=lambda item: -item[1]),
                sample=list(sample_filter.select_related("customer").order_by("pk")[:SAMPLE_SIZE]),
            )
        )
    return breakdown


def reason_messages(*, campaign_id: int, group: str, reason_code: str = "") -> QuerySet[Message]:
    """The messages of a group (optionally of one reason), for the CSV export."""
    messages = group_messages(campaign_id=campaign_id, group=group)
    if reason_code == "pending":
        messages = messages.filter(status=Message.Status.SENT)
    elif reason_code:
        messages = messages.exclude(status=Message.Status.SENT).filter(reason_code=reason_code)
    return messages.select_related("customer").order_by("pk")


@dataclass(frozen=True)
class CustomerMessage:
    message: Message
    reason: reasons.Reason | None  # why it was not sent or not delivered (None when delivered or on its way)
    clicks: int  # clicks by a person on this message's links


def customer_messages(*, customer_id: int, limit: int = 50) -> list[CustomerMessage]:
    """The customer's latest messages with what became of each and how often they clicked: two queries."""
    latest = Message.objects.filter(customer_id=customer_id).select_related("campaign")
    return messages_with_outcomes(list(latest.order_by("-created_at", "-pk")[:limit]))


def messages_with_outcomes(messages: list[Message]) -> list[CustomerMessage]:
    """Each message with the reason it failed, in words, and its clicks by a person: one query."""
    clicks = dict(
        Click.objects.filter(message_id__in=[m.pk for m in messages], is_bot=False)
        .values_list("message_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    failed = {Message.Status.NOT_SENT, Message.Status.NOT_DELIVERED, Message.Status.UNKNOWN}
    return [
        CustomerMessage(
            message=message,
            reason=reasons.reason_for(reason_of(message)) if message.status in failed else None,
            clicks=clicks.get(message.pk, 0),
        )
        for message in messages
    ]


@dataclass(frozen=True)
class ProofMessage:
    pk: int
    recipient: str  # masked, as View Details shows recipients
    status: str
    status_label: str
    reason: reasons.Reason | None  # why it was not sent or not delivered


def recent_proofs(*, campaign_id: int, limit: int = 10) -> list[tuple[Proof, list[ProofMessage]]]:
    """A campaign's latest tests (proofs), newest first, each with its messages (never in `Message.objects`) and
    what became of them, in words. Two queries, however many tests."""
    proofs = list(Proof.objects.filter(campaign_id=campaign_id).select_related("sent_by")[:limit])
    failed = {Message.Status.NOT_SENT, Message.Status.NOT_DELIVERED, Message.Status.UNKNOWN}
    messages: dict[int, list[ProofMessage]] = {proof.pk: [] for proof in proofs}
    for message in Message.with_proofs.filter(proof_id__in=list(messages)).order_by("pk"):
        messages[message.proof_id].append(
            ProofMessage(
                pk=message.pk,
                recipient=masked_recipient(message.recipient),
                status=message.status,
                status_label=message.get_status_display(),
                reason=reasons.reason_for(reason_of(message)) if message.status in failed else None,
            )
        )
    return [(proof, messages[proof.pk]) for proof in proofs]
