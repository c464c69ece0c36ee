"""Campaigns side by side: what went out (messages and their outcomes) and what came back (clicks, how soon, on
what kind of device), to learn which template, time or audience worked better.

A recurring campaign compares as the sum of its runs, as on the campaign list: its messages, outcomes, reasons,
clicks and devices add up every run, and its timing is measured from each run's own sending (the first click is
the soonest after any run's sending; "half of the clicks within N hours" pools every run's clicks, each counted
from its own run's sending), since runs go out days or weeks apart.

Five queries whatever the number of campaigns: messages grouped by campaign, status and reason; click counts per
campaign; clicks per campaign and user agent; clicks per campaign and minute; the sales counters (purchases in INR
attributed to each campaign, campaigns.customers.attribution). Everything else is done in Python on
those grouped rows.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Min, Q, Sum

from campaigns.base.click_rates import ClickRate, click_rate
from campaigns.customers.attribution import CampaignSalesFigures, campaign_sales
from campaigns.models import Campaign
from delivery import reasons
from delivery.models import Message, MessageCounts
from delivery.reports.selectors import GROUP_STATUSES, DeliveryCounts, delivery_counts_from, reason_of
from linktrack.counts.click_counts import ClickCounts, click_counts_for_campaigns
from linktrack.counts.devices import ANDROID, IOS
from linktrack.models import HourlyClicks

MIN_CAMPAIGNS = 2
MAX_CAMPAIGNS = 6
PHONES = (ANDROID, IOS)


@dataclass(frozen=True)
class ReasonShare:
    title: str
    count: int
    percent: float  # of the campaign's not-delivered messages


@dataclass(frozen=True)
class CampaignComparison:
    campaign: Campaign
    name: str
    channel: str  # in words: SMS, Email
    kind: str  # in words: One-time, Recurring, …
    launched_at: datetime | None
    audience: str
    template_name: str
    runs: int  # a recurring campaign's runs that sent messages (0 otherwise)
    outcomes: DeliveryCounts
    top_not_delivered: ReasonShare | None
    clicks: ClickCounts
    first_click_minutes: int | None  # from sending to the first click
    half_within_hours: int | None  # half of the clicks came within this many hours of sending
    phone_percent: float | None  # share of clicks from Android phones and iPhones / iPads; None without clicks
    sales: CampaignSalesFigures | None  # purchases in INR attributed to it (campaigns.customers.attribution)

    @property
    def messages(self) -> int:
        return self.outcomes.total

    @property
    def delivered_percent(self) -> float:
        return self.outcomes.delivered_percent

    @property
    def not_sent_percent(self) -> float:
        return self.outcomes.not_sent_percent

    @property
    def not_delivered_percent(self) -> float:
        return self.outcomes.not_delivered_percent

    @property
    def unknown_percent(self) -> float:
        return self.outcomes.unknown_percent

    @property
    def rate(self) -> ClickRate:
        """Unique clickers per delivered message, or per message sent where delivery is never reported."""
        return click_rate(
            unique_clicks=self.clicks.unique,
            delivered=self.outcomes.delivered,
            sent=self.outcomes.sent,
            delivery_reported=self.campaign.template.delivery_is_reported,
        )

    @property
    def click_rate(self) -> float | None:
        """The rate in percent; None when nothing was delivered (per sent: nothing sent)."""
        return self.rate.percent

    @property
    def revenue_per_recipient(self) -> float | None:
        if self.sales is None or self.sales.revenue_per_recipient is None:
            return None
        return float(self.sales.revenue_per_recipient)


def campaigns_compare(*, campaigns: list[Campaign]) -> list[CampaignComparison]:
    """The figures of each campaign, in the order given. Five queries whatever the number of campaigns.

    The campaigns should come with their org, template and its sender, audience list and segment, and resent campaign
    loaded, and none should be a run of another one in the list (its figures would count twice).
    """
    ids = [campaign.pk for campaign in campaigns]
    owners = _Owners(ids)
    messages = _message_rows(ids)
    clicks = click_counts_for_campaigns(campaign_ids=ids)
    phone_shares = _phone_shares(ids)
    zones = {campaign.pk: ZoneInfo(campaign.org.timezone) for campaign in campaigns}
    sent_at = _sent_at(messages)
    timings = _timings(ids, owners, sent_at, zones)
    no_clicks = ClickCounts(total=0, unique=0)
    outcomes = {pk: _outcomes([row for row in messages if owners.owns(pk, row)]) for pk in ids}
    sales = campaign_sales(
        campaign_ids=ids,
        delivered={pk: counts.delivered for pk, counts in outcomes.items()},
        clickers={pk: clicks.get(pk, no_clicks).unique for pk in ids},
    )
    comparisons = []
    for campaign in campaigns:
        rows = [row for row in messages if owners.owns(campaign.pk, row)]
        first_click, half_within = timings.get(campaign.pk, (None, None))
        comparisons.append(
            CampaignComparison(
                campaign=campaign,
                name=campaign.name,
                channel=campaign.template.get_channel_display(),
                kind=campaign.get_kind_display(),
                launched_at=campaign.launched_at,
                audience=_audience(campaign),
                template_name=campaign.template.name,
                runs=len({row["campaign_id"] for row in rows if row["campaign__parent_id"] == campaign.pk}),
                outcomes=outcomes[campaign.pk],
                top_not_delivered=_top_not_delivered(rows),
                clicks=clicks.get(campaign.pk, no_clicks),
                first_click_minutes=first_click,
                half_within_hours=half_within,
                phone_percent=phone_shares.get(campaign.pk),
                sales=next((figures for figures in sales[campaign.pk] if figures.currency == "INR"), None),
            )
        )
    return comparisons


class _Owners:
    """Which compared campaign a row of a campaign (or of a run, with its parent) counts for."""

    def __init__(self, ids: list[int]):
        self.ids = set(ids)

    def owner(self, campaign_id: int, parent_id: int | None) -> int | None:
        if parent_id in self.ids:
            return parent_id
        return campaign_id if campaign_id in self.ids else None

    def owns(self, owner_id: int, row: dict) -> bool:
        return self.owner(row["campaign_id"], row["campaign__parent_id"]) == owner_id

    @staticmethod
    def rows_filter(ids: list[int]) -> Q:
        # The campaigns and their runs first, so each table's index on its campaign is used, not a scan of the OR.
        return Q(campaign_id__in=Campaign.objects.filter(Q(pk__in=ids) | Q(parent_id__in=ids)).values("pk"))


def _audience(campaign: Campaign) -> str:
    if campaign.kind == Campaign.Kind.RESEND and campaign.resend_of_id:
        return f"recipients of {campaign.resend_of.name} not reached"
    return campaign.audience_in_words


def _message_rows(ids: list[int]) -> list[dict]:
    """Messages per (sent) campaign, status and reason, with when each campaign's first message was sent."""
    rows = (
        MessageCounts.objects.filter(_Owners.rows_filter(ids))
        .values("campaign_id", "campaign__parent_id", "campaign__launched_at", "status", "reason_code")
        .annotate(count=Sum("messages"), first_sent=Min("first_sent_at"))
        .order_by()
    )
    return [row for row in rows if row["count"] or row["first_sent"]]


def _outcomes(rows: list[dict]) -> DeliveryCounts:
    """The campaign page's figures (delivery.reports.selectors.delivery_counts) from the grouped rows."""
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["count"]
    return delivery_counts_from(by_status)


def _reason_code(status: str, stored: str) -> str:
    """The catalogue reason View Details shows for messages of this status and stored code."""
    code = reason_of(Message(status=status, reason_code=stored))
    return code if code in reasons.REASONS else reason_of(Message(status=status))


def _top_not_delivered(rows: list[dict]) -> ReasonShare | None:
    """The most frequent not-delivered reason (messages still waiting count as "pending", as on View Details)."""
    counts: dict[str, int] = {}
    for row in rows:
        # A counter row can hold 0 (its messages all moved on, e.g. every receipt came): it counts no reason.
        if row["status"] in GROUP_STATUSES[reasons.NOT_DELIVERED] and row["count"]:
            code = _reason_code(row["status"], row["reason_code"])
            counts[code] = counts.get(code, 0) + row["count"]
    if not counts:
        return None
    code, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return ReasonShare(
        title=reasons.reason_for(code).title, count=count, percent=round(100 * count / sum(counts.values()), 1)
    )


def _sent_at(messages: list[dict]) -> dict[int, datetime]:
    """When each campaign (or run) started sending: its first message's, else its launch (as on its page)."""
    sent: dict[int, datetime] = {}
    for row in messages:
        moment = row["first_sent"] or row["campaign__launched_at"]
        campaign_id = row["campaign_id"]
        if moment is not None and (campaign_id not in sent or moment < sent[campaign_id]):
            sent[campaign_id] = moment
    return sent


def _phone_shares(ids: list[int]) -> dict[int, float]:
    """The share of each campaign's clicks (people only) made on a phone, in percent."""
    owners = _Owners(ids)
    totals: dict[int, int] = {}
    phones: dict[int, int] = {}
    rows = (
        HourlyClicks.objects.filter(_Owners.rows_filter(ids))
        .values_list("campaign_id", "campaign__parent_id", "device")
        .annotate(count=Sum("clicks"))
        .order_by()
    )
    for campaign_id, parent_id, device, count in rows:
        owner = owners.owner(campaign_id, parent_id)
        totals[owner] = totals.get(owner, 0) + count
        if device in PHONES:
            phones[owner] = phones.get(owner, 0) + count
    return {owner: round(100 * phones.get(owner, 0) / total, 1) for owner, total in totals.items() if total}


def _timings(
    ids: list[int], owners: _Owners, sent_at: dict[int, datetime], zones: dict[int, ZoneInfo]
) -> dict[int, tuple[int | None, int | None]]:
    """(minutes to the first click, hours to half of the clicks) per campaign, as its page's click timeline counts
    them (linktrack.counts.campaign_clicks.click_timeline), a run's clicks from its own sending.

    Read from the hourly click counters, whose hours are each campaign's org's.
    """
    rows = (
        HourlyClicks.objects.filter(_Owners.rows_filter(ids))
        .values_list("campaign_id", "campaign__parent_id", "hour")
        .annotate(count=Sum("clicks"), first=Min("first_click_at"))
        .order_by()
    )
    first_click: dict[int, int] = {}
    per_hour: dict[int, dict[int, int]] = {}  # owner -> hours after its run's sending -> clicks
    for campaign_id, parent_id, hour, count, first in rows:
        owner = owners.owner(campaign_id, parent_id)
        sent = sent_at.get(campaign_id)
        if sent is None:  # clicks on a campaign that never sent: no timing, as on its page
            continue
        minutes = max(0, int((first - sent).total_seconds() // 60))
        first_click[owner] = min(first_click.get(owner, minutes), minutes)
        offset = _hours_after(hour, sent, zones[owner])
        hours = per_hour.setdefault(owner, {})
        hours[offset] = hours.get(offset, 0) + count
    return {owner: (first_click[owner], _half_within(per_hour[owner].items())) for owner in first_click}


def _hours_after(moment: datetime, sent: datetime, zone: ZoneInfo) -> int:
    """Which hour after sending `moment` falls in, both on the org's clock, counted as click_timeline counts."""
    hour = moment.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    start = sent.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    return int((hour - start).total_seconds() // 3600)


def _half_within(hour_counts: Iterable[tuple[int, int]]) -> int | None:
    ordered = sorted(hour_counts)
    total = sum(count for _, count in ordered)
    running = 0
    for offset, count in ordered:
        running += count
        if 2 * running >= total:
            return max(1, offset + 1)
    return None


# Rows where one value is better than another, and which way: a higher delivered share or click rate, a lower
# not-delivered share or a sooner first click. Campaigns without the figure (nothing sent, nothing delivered, no
# click) take no part.
HIGHEST, LOWEST = "highest", "lowest"
BEST_RULES = {
    "delivered_percent": HIGHEST,
    "not_delivered_percent": LOWEST,
    "click_rate": HIGHEST,
    "first_click_minutes": LOWEST,
    "revenue_per_recipient": HIGHEST,
}


def _figure(comparison: CampaignComparison, figure: str) -> float | None:
    if figure in ("delivered_percent", "not_delivered_percent") and not comparison.messages:
        return None
    return getattr(comparison, figure)


def best_values(comparisons: list[CampaignComparison]) -> dict[str, set[int]]:
    """Per figure, the ids of the campaigns with its best value (ties share it). A figure is left out when fewer
    than two campaigns have it or all of them have the same value: nothing is better then."""
    best: dict[str, set[int]] = {}
    for figure, best_is in BEST_RULES.items():
        values = {c.campaign.pk: _figure(c, figure) for c in comparisons if _figure(c, figure) is not None}
        if len(values) < 2 or len(set(values.values())) < 2:
            continue
        target = max(values.values()) if best_is == HIGHEST else min(values.values())
        best[figure] = {pk for pk, value in values.items() if value == target}
    return best
