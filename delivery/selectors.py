"""Read-side queries for campaign reports."""

from dataclasses import dataclass

from django.db.models import Count

from delivery.models import Message


@dataclass(frozen=True)
class DeliveryCounts:
    total: int
    queued: int  # not yet handed to the gateway
    sent: int  # accepted by the gateway (delivered, not delivered, unknown and still waiting)
    waiting: int
    delivered: int
    not_delivered: int
    not_sent: int
    unknown: int

    def percent(self, count: int) -> float:
        return round(100 * count / self.total, 1) if self.total else 0.0

    @property
    def delivered_percent(self) -> float:
        return self.percent(self.delivered)

    @property
    def not_delivered_percent(self) -> float:
        return self.percent(self.not_delivered)

    @property
    def not_sent_percent(self) -> float:
        return self.percent(self.not_sent)

    @property
    def sent_percent(self) -> float:
        return self.percent(self.sent)

    @property
    def unknown_percent(self) -> float:
        return self.percent(self.unknown)


def delivery_counts(*, campaign_id: int) -> DeliveryCounts:
    by_status = dict(
        Message.objects.filter(campaign_id=campaign_id)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    s = Message.Status
    waiting = by_status.get(s.SENT, 0)
    delivered, not_delivered, unknown = (by_status.get(x, 0) for x in (s.DELIVERED, s.NOT_DELIVERED, s.UNKNOWN))
    return DeliveryCounts(
        total=sum(by_status.values()),
        queued=by_status.get(s.QUEUED, 0) + by_status.get(s.SUBMITTING, 0),
        sent=waiting + delivered + not_delivered + unknown,
        waiting=waiting,
        delivered=delivered,
        not_delivered=not_delivered,
        not_sent=by_status.get(s.NOT_SENT, 0),
        unknown=unknown,
    )
