"""Read-side queries of the campaign list and page: live progress, and each campaign's messages and clicks."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from campaigns.models import Campaign
from delivery.reports.selectors import messages_by_campaign
from linktrack.counts.click_counts import ClickCounts, click_counts_for_campaigns


def campaign_progress(*, campaign: Campaign, counts) -> dict:
    """Live progress of a campaign: how many messages are prepared, where they are, and the share of each."""
    figures = {
        "queued": counts.queued,
        "sent": counts.sent,
        "delivered": counts.delivered,
        "failed": counts.not_delivered - counts.waiting,
        "not_sent": counts.not_sent,
    }
    # Shares that add up (campaigns.base.shares): queued, sent and not sent make 100.0%.
    percent = {
        "queued": counts.queued_percent,
        "sent": counts.sent_percent,
        "delivered": counts.delivered_percent,
        "failed": counts.failed_percent,
        "not_sent": counts.not_sent_percent,
    }
    return {
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "hold_reason": campaign.hold_reason,
        "prepared": counts.total,
        "handed_over_percent": counts.handed_over_percent,
        **figures,
        "percent": percent,
    }


# Receipts mostly arrive within minutes of the hand-over; a few never do (they become "no receipt" after days).
RECEIPTS_ARRIVING = timedelta(minutes=15)


def campaign_page_is_live(*, campaign: Campaign, counts) -> bool:
    """Whether the campaign page should refresh itself: messages are still being handed over, or receipts are
    still arriving shortly after the last hand-over (not for the days a missing receipt may take)."""
    if campaign.status == Campaign.Status.DISPATCHING or counts.queued:
        return True
    recently_handed_over = campaign.dispatched_at and campaign.dispatched_at > timezone.now() - RECEIPTS_ARRIVING
    return bool(counts.waiting and recently_handed_over)


@dataclass(frozen=True)
class CampaignSummary:
    """The figures a campaign list shows: how many messages, how many delivered, who clicked."""

    messages: int
    delivered: int
    clicks: ClickCounts

    @property
    def delivered_percent(self) -> float:
        return round(100 * self.delivered / self.messages, 1) if self.messages else 0.0

    @property
    def click_rate(self) -> float:
        """Unique clickers per delivered message, in percent."""
        return round(100 * self.clicks.unique / self.delivered, 1) if self.delivered else 0.0


def campaign_summaries(*, campaigns: list[Campaign]) -> dict[int, CampaignSummary]:
    """A summary per campaign (a recurring campaign adds up its runs), in two queries whatever the count."""
    ids = [campaign.pk for campaign in campaigns]
    messages = messages_by_campaign(campaign_ids=ids)
    clicks = click_counts_for_campaigns(campaign_ids=ids)
    no_clicks = ClickCounts(total=0, unique=0)
    return {pk: CampaignSummary(*messages.get(pk, (0, 0)), clicks=clicks.get(pk, no_clicks)) for pk in ids}
