"""Insights by campaign: each campaign of an org with its delivered messages and its clicks in a period."""

from dataclasses import dataclass
from datetime import datetime, tzinfo

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
    since: datetime | None = None,
    until: datetime | None = None,
    tz: tzinfo | None = None,
    channel: str = "",
) -> list[CampaignInsight]:
    """Every campaign of an org (of one `channel`, if given) that sent messages or got clicks in the period, most
    unique clicks first.

    Two queries: clicks per campaign, and delivered messages per campaign.
    """
    clicks = click_counts_by_campaign(org_id=org_id, since=since, until=until, tz=tz, channel=channel)
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
