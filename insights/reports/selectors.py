"""Insights by campaign: each campaign of an org with its delivered messages and its clicks in a period."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q

from campaigns.models import Campaign
from linktrack.counts.click_counts import ClickCounts, click_counts_by_campaign


@dataclass(frozen=True)
class CampaignInsight:
    campaign_id: int
    name: str
    channel: str
    delivered: int
    clicks: ClickCounts

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

    Three queries: clicks (totals and clickers) per campaign, and delivered messages per campaign.
    """
    clicks = click_counts_by_campaign(org_id=org_id, first_day=first_day, last_day=last_day, channel=channel)
    campaigns = Campaign.objects.filter(org_id=org_id)
    if channel:
        campaigns = campaigns.filter(template__channel=channel)
    # A join bypasses Message.objects, which leaves proofs out: leave them out here too.
    delivered = Q(messages__status="delivered", messages__proof__isnull=True)
    campaigns = campaigns.annotate(delivered=Count("messages", filter=delivered))
    launched = Q()
    if since is not None:
        launched &= Q(launched_at__gte=since)
    if until is not None:
        launched &= Q(launched_at__lt=until)
    campaigns = campaigns.filter(launched | Q(pk__in=list(clicks)))
    rows = campaigns.values("pk", "name", "template__channel", "delivered")
    insights = [
        CampaignInsight(
            campaign_id=row["pk"],
            name=row["name"],
            channel=row["template__channel"],
            delivered=row["delivered"],
            clicks=clicks.get(row["pk"], ClickCounts(total=0, unique=0)),
        )
        for row in rows
        if row["delivered"] or row["pk"] in clicks
    ]
    return sorted(insights, key=lambda insight: (-insight.clicks.unique, -insight.clicks.total, insight.name))
