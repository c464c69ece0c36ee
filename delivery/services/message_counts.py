"""The message counters' upkeep: merging the rows of changes the database triggers add (delivery.models.MessageCounts),
and a check of them against a count of the messages."""

import logging

from django.core.cache import cache
from django.db.models import Count, Max, Sum

from campaigns.models import Campaign
from delivery.models import Message, MessageCounts
from linktrack.common.change_rows import MIN, SUM, MergedMeanwhile, change_rows_merge

logger = logging.getLogger(__name__)

_MERGED_UP_TO = "delivery:message-counts:merged-up-to"


def message_counts_merge() -> int:
    """Merge the rows of the campaigns whose messages changed since the last run, and drop the rows of deleted
    campaigns; returns the rows removed. Where the last run stopped is kept in the cache: losing it only makes the
    next run look at every campaign."""
    newer = MessageCounts.objects.filter(pk__gt=cache.get(_MERGED_UP_TO, 0))
    highest = newer.aggregate(highest=Max("pk"))["highest"]
    if highest is None:
        return 0
    campaign_ids = set(newer.filter(pk__lte=highest).values_list("campaign_id", flat=True).distinct())
    existing = set(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", flat=True))
    removed, _ = MessageCounts.objects.filter(campaign_id__in=campaign_ids - existing).delete()
    for campaign_id in sorted(existing):
        try:
            removed += change_rows_merge(
                MessageCounts.objects.filter(campaign_id=campaign_id),
                keys=("campaign_id", "status", "reason_code"),
                figures={"messages": SUM, "first_sent_at": MIN},
            )
        except MergedMeanwhile:
            logger.info("campaign %s's message counts changed during the merge; merging it next time", campaign_id)
            return removed
    cache.set(_MERGED_UP_TO, highest, timeout=None)
    return removed


def message_counts_differences(*, campaign_ids: list[int]) -> list[str]:
    """Where the message counters differ from a count of the messages, in words; empty when they agree."""
    counted = {
        (campaign_id, status, reason): n
        for campaign_id, status, reason, n in MessageCounts.objects.filter(campaign_id__in=campaign_ids)
        .values_list("campaign_id", "status", "reason_code")
        .annotate(n=Sum("messages"))
        .order_by()
        if n
    }
    stored = {
        (campaign_id, status, reason): n
        for campaign_id, status, reason, n in Message.objects.filter(campaign_id__in=campaign_ids)
        .values_list("campaign_id", "status", "reason_code")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return [
        f"campaign {key[0]}, {key[1]} {key[2] or '(no reason)'}: counted {counted.get(key, 0)}, "
        f"stored {stored.get(key, 0)}"
        for key in sorted(set(counted) | set(stored))
        if counted.get(key, 0) != stored.get(key, 0)
    ]
