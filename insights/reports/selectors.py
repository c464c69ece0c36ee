"""Insights by campaign: each campaign of an org with its delivered messages and its clicks in a period."""

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db.models import Q, Sum

from campaigns.customers.attribution import CampaignSalesFigures, campaign_sales
from campaigns.models import Campaign, CampaignSales
from delivery.models import Message, MessageCounts
from linktrack.counts.click_counts import ClickCounts, click_counts_by_campaign, click_counts_for_campaigns


@dataclass(frozen=True)
class CampaignInsight:
    campaign_id: int
    name: str
    channel: str
    delivered: int
    clicks: ClickCounts
    sales: CampaignSalesFigures | None = None  # purchases in INR attributed to it, of all time

    @property
    def click_rate(self) -> float:
        """Unique clickers per delivered message, in percent."""
        return round(100 * self.clicks.unique / self.delivered, 1) if self.delivered else 0.0


def campaign_insights(
    *,
    org_id: int,
    first_day: date | None = None,
    last_day: date | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: str = "",
) -> list[CampaignInsight]:
    """Every campaign of an org (of one `channel`, if given) launched or clicked in the period, most unique clicks
    first. The period is its days on the org's clock (`first_day`, `last_day`) and the same as moments (`since`,
    the start of the first day; `until`, the end of the last).

    Four queries: clicks (totals and clickers) per campaign, delivered messages per campaign (from the message
    counters), and the campaigns; one more for the sales counters, and when some campaign has sales, three for
    their sales and their clickers of all time (the groups the sales set side by side).
    """
    clicks = click_counts_by_campaign(org_id=org_id, first_day=first_day, last_day=last_day, channel=channel)
    campaigns = Campaign.objects.filter(org_id=org_id)
    if channel:
        campaigns = campaigns.filter(template__channel=channel)
    delivered = dict(
        MessageCounts.objects.filter(campaign__org_id=org_id, status=Message.Status.DELIVERED)
        .values_list("campaign_id")
        .annotate(n=Sum("messages"))
        .order_by()
    )
    launched = Q()
    if since is not None:
        launched &= Q(launched_at__gte=since)
    if until is not None:
        launched &= Q(launched_at__lt=until)
    campaigns = campaigns.filter(launched | Q(pk__in=list(clicks)))
    rows = campaigns.values("pk", "name", "template__channel")
    insights = [
        CampaignInsight(
            campaign_id=row["pk"],
            name=row["name"],
            channel=row["template__channel"],
            delivered=delivered.get(row["pk"], 0),
            clicks=clicks.get(row["pk"], ClickCounts(total=0, unique=0)),
        )
        for row in rows
        if delivered.get(row["pk"]) or row["pk"] in clicks
    ]
    insights = _with_sales(insights, delivered)
    return sorted(insights, key=lambda insight: (-insight.clicks.unique, -insight.clicks.total, insight.name))


def _with_sales(insights: list[CampaignInsight], delivered: dict[int, int]) -> list[CampaignInsight]:
    """Each campaign with its purchases in INR (campaigns.customers.attribution), of all time: its clickers of all
    time and delivered messages are the groups, whatever the period of the clicks shown."""
    ids = [insight.campaign_id for insight in insights]
    sold = list(CampaignSales.objects.filter(campaign_id__in=ids).values_list("campaign_id", flat=True).distinct())
    if not sold:
        return insights
    clickers = {pk: counts.unique for pk, counts in click_counts_for_campaigns(campaign_ids=sold).items()}
    sales = campaign_sales(campaign_ids=sold, delivered=delivered, clickers=clickers)
    return [
        replace(
            insight,
            sales=next((row for row in sales.get(insight.campaign_id, []) if row.currency == "INR"), None),
        )
        for insight in insights
    ]
