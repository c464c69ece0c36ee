"""How fast a campaign's messages were delivered: the time within which half, 90% and 99% of them arrived, the
share delivered within 10 seconds, a minute, 10 minutes and an hour, and how long sending took.

A message's delivery time runs from `sent_at` (the gateway accepted it) to `finished_at` (its final receipt reached
linktrack, delivery.services.receipts_apply), both on linktrack's own clock. A receipt's own "done" time (SMPP
`done date`, Infobip `doneAt`) is not used: SMPP writes it to the minute, in the SMSC's unstated time zone, and a
gateway's clock is not ours, so set against our `sent_at` it gives times off by minutes or below zero. The arrival
time includes the gateway's delay in reporting, which is also when the campaign report learns of the delivery.

Everything is computed in the database, in a fixed number of queries whatever the number of messages: PostgreSQL's
percentile_cont, elsewhere (SQLite) the two messages around each percentile picked by their rank and interpolated
the same way, so both give the same figures.
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from campaigns.models import Campaign, Channel
from delivery.models import Message, MessageCounts

PERCENTILES = {"median": 0.5, "p90": 0.9, "p99": 0.99}
# The limits a campaign manager asks about: (name in the API, in words, limit).
WITHIN = (
    ("10s", "10 seconds", timedelta(seconds=10)),
    ("1min", "1 minute", timedelta(minutes=1)),
    ("10min", "10 minutes", timedelta(minutes=10)),
    ("1h", "1 hour", timedelta(hours=1)),
)

_DELIVERY_TIME = ExpressionWrapper(F("finished_at") - F("sent_at"), output_field=DurationField())


class _PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont over a duration: interpolated between the two nearest values."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression, fraction: float):
        super().__init__(expression, fraction=repr(float(fraction)))


@dataclass(frozen=True)
class WithinShare:
    key: str  # "10s", as the API names it
    words: str  # "10 seconds"
    count: int
    percent: float  # of the delivered messages measured


@dataclass(frozen=True)
class DeliverySpeed:
    delivered: int  # delivered messages measured (handed to the gateway and with a receipt)
    median: timedelta
    p90: timedelta
    p99: timedelta
    within: list[WithinShare]
    # From the launch to the last message handed to the gateway; for a recurring campaign, its slowest run's.
    send_duration: timedelta | None
    of_runs: bool  # a recurring campaign: the figures pool its runs

    @property
    def median_words(self) -> str:
        return duration_in_words(self.median)

    @property
    def p90_words(self) -> str:
        return duration_in_words(self.p90)

    @property
    def p99_words(self) -> str:
        return duration_in_words(self.p99)

    @property
    def send_duration_words(self) -> str:
        return duration_in_words(self.send_duration) if self.send_duration is not None else ""

    def as_json(self) -> dict:
        """The reporting API's form: seconds and percents."""
        return {
            "delivered": self.delivered,
            "median_seconds": _seconds(self.median),
            "p90_seconds": _seconds(self.p90),
            "p99_seconds": _seconds(self.p99),
            "within_percent": {share.key: share.percent for share in self.within},
            "send_duration_seconds": _seconds(self.send_duration) if self.send_duration is not None else None,
        }


def delivery_speed(*, campaign: Campaign) -> DeliverySpeed | None:
    """How fast the campaign's messages were delivered (a recurring campaign: all its runs together); None while
    none is delivered, and for email, whose "delivered" is the receiving mail server's acceptance while sending, so
    its times say nothing. One query when none is delivered, else two on PostgreSQL and three elsewhere."""
    if campaign.channel == Channel.EMAIL:
        return None
    messages = Message.objects.filter(
        Q(campaign_id=campaign.pk) | Q(campaign__parent_id=campaign.pk)
        if campaign.is_recurring
        else Q(campaign_id=campaign.pk)
    )
    delivered = messages.filter(
        status=Message.Status.DELIVERED, sent_at__isnull=False, finished_at__isnull=False
    ).annotate(delivery_time=_DELIVERY_TIME)
    figures = {"delivered": Count("pk")}
    figures |= {key: Count("pk", filter=Q(delivery_time__lte=limit)) for key, _, limit in WITHIN}
    if connection.vendor == "postgresql":
        figures |= {name: _PercentileCont("delivery_time", fraction) for name, fraction in PERCENTILES.items()}
    found = delivered.aggregate(**figures)
    count = found["delivered"]
    if not count:
        return None
    percentiles = (
        {name: found[name] for name in PERCENTILES}
        if connection.vendor == "postgresql"
        else _percentiles_by_rank(delivered, count)
    )
    return DeliverySpeed(
        delivered=count,
        **{name: max(value, timedelta(0)) for name, value in percentiles.items()},
        within=[WithinShare(key, words, found[key], round(100 * found[key] / count, 1)) for key, words, _ in WITHIN],
        send_duration=_send_duration(campaign),
        of_runs=campaign.is_recurring,
    )


def _percentiles_by_rank(delivered: QuerySet, count: int) -> dict[str, timedelta]:
    """percentile_cont without it: the values ranked just below and above each percentile (one query, at most
    six rows), interpolated as PostgreSQL does."""
    wanted: dict[str, tuple[int, int, float]] = {}
    for name, fraction in PERCENTILES.items():
        position = fraction * (count - 1)
        below = math.floor(position)
        wanted[name] = (below + 1, math.ceil(position) + 1, position - below)  # ranks count from 1
    ranks = {rank for below, above, _ in wanted.values() for rank in (below, above)}
    ranked = dict(
        delivered.annotate(rank=Window(RowNumber(), order_by=[F("delivery_time").asc(), F("pk").asc()]))
        .filter(rank__in=sorted(ranks))
        .values_list("rank", "delivery_time")
    )
    return {
        name: ranked[below] + (ranked[above] - ranked[below]) * share for name, (below, above, share) in wanted.items()
    }


def _send_duration(campaign: Campaign) -> timedelta | None:
    """From the launch to the last message handed to the gateway; for a recurring campaign, the longest of its
    runs, each from its own launch (runs go out days apart). Pauses and promotional-window holds count. Only a
    sending that has finished (every message prepared and handed over) has taken a time: until then, None."""
    sendings = Campaign.objects.filter(
        Q(pk=campaign.pk) | Q(parent_id=campaign.pk) if campaign.is_recurring else Q(pk=campaign.pk),
        launched_at__isnull=False,
        status=Campaign.Status.DISPATCHED,
    )
    # Read from the message counters: messages still to hand over, per campaign.
    waiting = (
        MessageCounts.objects.filter(
            campaign_id=OuterRef("pk"), status__in=(Message.Status.QUEUED, Message.Status.SUBMITTING)
        )
        .values("campaign_id")
        .annotate(n=Sum("messages"))
        .values("n")
    )
    sendings = (
        sendings.annotate(waiting=Coalesce(Subquery(waiting), 0))
        .filter(waiting=0)
        .annotate(last_sent=Max("messages__sent_at", filter=Q(messages__proof__isnull=True)))
    )
    took = sendings.aggregate(
        longest=Max(ExpressionWrapper(F("last_sent") - F("launched_at"), output_field=DurationField()))
    )["longest"]
    return max(took, timedelta(0)) if took is not None else None


def _seconds(duration: timedelta) -> float:
    return round(duration.total_seconds(), 3)


def duration_in_words(duration: timedelta) -> str:
    """4.5 s, 42 s, 1 min 51 s, 2 h 5 min, 3 days 4 h: the two largest units a campaign manager reads at a glance."""
    seconds = duration.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f}".removesuffix(".0") + " s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    minutes = whole // 60
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(minutes // 60, 24)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"
