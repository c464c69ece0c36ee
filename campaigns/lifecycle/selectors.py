"""Read-side queries of the campaign list and page: live progress, and each campaign's messages and clicks."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from campaigns.base.click_rates import ClickRate, click_rate
from campaigns.models import Campaign
from delivery.reports.delivery_times import duration_in_words
from delivery.reports.selectors import NO_MESSAGES, delivery_counts_from, messages_by_campaign, messages_by_status
from linktrack.counts.click_counts import ClickCounts, click_counts_for_campaigns


@dataclass(frozen=True)
class SendingProgress:
    """How far a campaign's sending has come, against its audience from the moment of launch (Campaign.audience_size)
    until every message is prepared, then against its messages (one message per number: a few customers of the
    audience may get none). Percentages are rounded down, so 100% is shown only once it is true."""

    total: int  # recipients the sending is heading for
    prepared: int  # messages prepared (every message there is)
    handed_over: int  # accepted by the gateway (whatever became of them after)
    not_sent: int  # checked and not sent (never handed over)
    all_prepared: bool  # every recipient has a message
    finished: bool  # every message prepared, and none waiting to be handed over
    rate_per_second: float | None  # messages handed over per second since the first one
    seconds_left: int | None

    @property
    def done(self) -> int:
        """Messages that have left the queue: handed over, or checked and not sent."""
        return self.handed_over + self.not_sent

    @property
    def prepared_percent(self) -> int:
        return _percent_down(self.prepared, self.total, complete=self.all_prepared)

    @property
    def done_percent(self) -> int:
        return _percent_down(self.done, self.total, complete=self.finished)

    @property
    def bar_value(self) -> int:
        """The bar's value against `total`: full only once finished (a last message may still be on its way)."""
        return self.total if self.finished else min(self.done, max(self.total - 1, 0))

    @property
    def time_left_words(self) -> str:
        if self.seconds_left is None:
            return ""
        return duration_in_words(timedelta(seconds=self.seconds_left))

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "prepared": self.prepared,
            "handed_over": self.handed_over,
            "not_sent": self.not_sent,
            "done": self.done,
            "prepared_percent": self.prepared_percent,
            "done_percent": self.done_percent,
            "bar_value": self.bar_value,
            "finished": self.finished,
            "rate_per_second": self.rate_per_second,
            "seconds_left": self.seconds_left,
            "time_left": self.time_left_words,
        }


def _percent_down(part: int, whole: int, *, complete: bool) -> int:
    if complete:
        return 100
    return min(100 * part // whole, 99) if whole else 0


def sending_progress(*, campaign: Campaign, counts, first_sent_at: datetime | None = None) -> SendingProgress:
    """The progress of a campaign's sending from its message counters (delivery.models.MessageCounts, read into
    `counts`) and its stored audience size; `first_sent_at`, when one message was handed over, gives the rate."""
    all_prepared = campaign.status in (Campaign.Status.DISPATCHED, Campaign.Status.CANCELLED)
    total = counts.total if all_prepared else max(campaign.audience_size or 0, counts.total)
    done = counts.total - counts.queued
    finished = campaign.status == Campaign.Status.DISPATCHED and not counts.queued
    rate = seconds_left = None
    # While it sends: once finished the page says how long sending took, and a rate up to now would only fall.
    if not finished and first_sent_at is not None and counts.sent:
        elapsed = (timezone.now() - first_sent_at).total_seconds()
        if elapsed > 0:
            rate = round(counts.sent / elapsed, 1)
            if rate > 0:
                seconds_left = round((total - done) / (counts.sent / elapsed))
    return SendingProgress(
        total=total,
        prepared=counts.total,
        handed_over=counts.sent,
        not_sent=counts.not_sent,
        all_prepared=all_prepared,
        finished=finished,
        rate_per_second=rate,
        seconds_left=seconds_left,
    )


def sending_progress_of(*, campaigns: list[Campaign]) -> dict[int, SendingProgress]:
    """The progress of the campaigns among `campaigns` still sending (the campaign list's small bars): one query of
    the message counters, none when none is sending."""
    sending = [campaign for campaign in campaigns if campaign.status == Campaign.Status.DISPATCHING]
    by_status = messages_by_status(campaign_ids=[campaign.pk for campaign in sending]) if sending else {}
    return {
        campaign.pk: sending_progress(campaign=campaign, counts=delivery_counts_from(by_status.get(campaign.pk, {})))
        for campaign in sending
    }


def campaign_progress(*, campaign: Campaign, counts, first_sent_at: datetime | None = None) -> dict:
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
        "sending": sending_progress(campaign=campaign, counts=counts, first_sent_at=first_sent_at).as_dict(),
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
    sent: int = 0
    delivery_reported: bool = True

    @property
    def delivered_percent(self) -> float:
        return round(100 * self.delivered / self.messages, 1) if self.messages else 0.0

    @property
    def click_rate(self) -> float:
        """Unique clickers per delivered message, in percent (the reporting API's figure)."""
        return round(100 * self.clicks.unique / self.delivered, 1) if self.delivered else 0.0

    @property
    def rate(self) -> ClickRate:
        """The click rate the pages show: per delivered message, or per message sent where delivery is never
        reported (campaigns.base.click_rates)."""
        return click_rate(
            unique_clicks=self.clicks.unique,
            delivered=self.delivered,
            sent=self.sent,
            delivery_reported=self.delivery_reported,
        )


def campaign_summaries(*, campaigns: list[Campaign]) -> dict[int, CampaignSummary]:
    """A summary per campaign (a recurring campaign adds up its runs), in two queries whatever the count."""
    ids = [campaign.pk for campaign in campaigns]
    messages = messages_by_campaign(campaign_ids=ids)
    clicks = click_counts_for_campaigns(campaign_ids=ids)
    no_clicks = ClickCounts(total=0, unique=0)
    summaries = {}
    for pk in ids:
        totals = messages.get(pk, NO_MESSAGES)
        summaries[pk] = CampaignSummary(
            messages=totals.messages,
            delivered=totals.delivered,
            clicks=clicks.get(pk, no_clicks),
            sent=totals.sent,
            delivery_reported=totals.delivery_reported,
        )
    return summaries
