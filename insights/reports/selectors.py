"""Insights by campaign: each campaign of an org with its delivered (and sent) messages and its clicks in a
period."""

from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from campaigns.base.click_rates import ClickRate, click_rate, delivery_reported
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
    sent: int = 0
    delivery_reported: bool = True
    sales: CampaignSalesFigures | None = None  # purchases in INR attributed to it, of all time

    @property
    def rate(self) -> ClickRate:
        """Unique clickers per delivered message, or per message sent where delivery is never reported."""
        return click_rate(
            unique_clicks=self.clicks.unique,
            delivered=self.delivered,
            sent=self.sent,
            delivery_reported=self.delivery_reported,
        )

    @property
    def click_rate(self) -> float:
        """The rate in percent, 0.0 when nothing was delivered (per sent: sent)."""
        return self.rate.percent or 0.0


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

    Four queries: clicks (totals and clickers) per campaign, delivered and sent messages per campaign (from the
    message counters), and the campaigns; one more for the sales counters, and when some campaign has sales, three
    for their sales and their clickers of all time (the groups the sales set side by side). A campaign from a
    promotional sender, whose delivery is never reported, is listed once it has sent messages.
    """
    clicks = click_counts_by_campaign(org_id=org_id, first_day=first_day, last_day=last_day, channel=channel)
    campaigns = Campaign.objects.filter(org_id=org_id)
    if channel:
        campaigns = campaigns.filter(template__channel=channel)
    handed_over = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.NOT_DELIVERED, Message.Status.UNKNOWN)
    counted = (
        MessageCounts.objects.filter(campaign__org_id=org_id, status__in=handed_over)
        .values("campaign_id")
        .annotate(
            delivered=Sum("messages", filter=Q(status=Message.Status.DELIVERED)), sent=Coalesce(Sum("messages"), 0)
        )
        .order_by()
    )
    delivered = {row["campaign_id"]: row["delivered"] or 0 for row in counted}
    sent = {row["campaign_id"]: row["sent"] for row in counted}
    launched = Q()
    if since is not None:
        launched &= Q(launched_at__gte=since)
    if until is not None:
        launched &= Q(launched_at__lt=until)
    campaigns = campaigns.filter(launched | Q(pk__in=list(clicks)))
    insights = []
    for row in campaigns.values("pk", "name", "template__channel", "template__sender__category"):
        pk = row["pk"]
        reported = delivery_reported(
            channel=row["template__channel"], sender_category=row["template__sender__category"]
        )
        if not (delivered.get(pk) or pk in clicks or (sent.get(pk) and not reported)):
            continue
        insights.append(
            CampaignInsight(
                campaign_id=pk,
                name=row["name"],
                channel=row["template__channel"],
                delivered=delivered.get(pk, 0),
                clicks=clicks.get(pk, ClickCounts(total=0, unique=0)),
                sent=sent.get(pk, 0),
                delivery_reported=reported,
            )
        )
    # The sales' groups are the recipients reached: delivered, or sent where delivery is never reported.
    reached = {
        insight.campaign_id: insight.delivered if insight.delivery_reported else insight.sent for insight in insights
    }
    insights = _with_sales(insights, reached)
    return sorted(insights, key=lambda insight: (-insight.clicks.unique, -insight.clicks.total, insight.name))


def _with_sales(insights: list[CampaignInsight], reached: dict[int, int]) -> list[CampaignInsight]:
    """Each campaign with its purchases in INR (campaigns.customers.attribution), of all time: its clickers of all
    time and delivered messages are the groups, whatever the period of the clicks shown."""
    ids = [insight.campaign_id for insight in insights]
    sold = list(CampaignSales.objects.filter(campaign_id__in=ids).values_list("campaign_id", flat=True).distinct())
    if not sold:
        return insights
    clickers = {pk: counts.unique for pk, counts in click_counts_for_campaigns(campaign_ids=sold).items()}
    sales = campaign_sales(campaign_ids=sold, delivered=reached, clickers=clickers)
    return [
        replace(
            insight,
            sales=next((row for row in sales.get(insight.campaign_id, []) if row.currency == "INR"), None),
        )
        for insight in insights
    ]
