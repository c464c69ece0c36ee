"""The click counters' upkeep, as the periodic jobs and the management commands run it: merging change rows,
building counters for clicks stored before them, and the nightly check against the stored clicks."""

import logging
from collections.abc import Callable

from django.core.cache import cache

from linktrack.common.change_rows import MergedMeanwhile
from linktrack.counts.counters import campaigns_to_merge, counters_merge
from linktrack.counts.rebuild import (
    CountersKeepDroppedClicks,
    campaign_counters_differences,
    campaign_counters_rebuild,
    campaigns_with_clicks,
    campaigns_without_counters,
)

logger = logging.getLogger(__name__)

_MERGED_UP_TO = "linktrack:click-counters:merged-up-to"


def click_counters_merge() -> int:
    """Merge the change rows of the campaigns clicked since the last run; returns the rows removed.

    Where the last run stopped is kept in the cache: losing it only makes the next run look at every campaign.
    """
    campaign_ids, highest = campaigns_to_merge(after_id=cache.get(_MERGED_UP_TO, 0))
    removed = 0
    for campaign_id in campaign_ids:
        try:
            removed += counters_merge(campaign_id=campaign_id)
        except MergedMeanwhile:
            logger.info("campaign %s's counters changed during the merge; merging it next time", campaign_id)
            return removed  # the mark stays: the next run looks at these campaigns again
    cache.set(_MERGED_UP_TO, highest, timeout=None)
    return removed


def click_counters_build(
    *, org_id: int | None = None, everything: bool = False, progress: Callable[[str], None] = logger.info
) -> int:
    """Build the counters of campaigns with stored clicks but none counted (all of them with `everything`), one
    campaign per transaction, so a run that stops half-way goes on where it stopped when started again.
    Returns the campaigns built."""
    campaign_ids = campaigns_with_clicks(org_id=org_id)
    if not everything:
        campaign_ids = campaigns_without_counters(campaign_ids=campaign_ids)
    built = 0
    for done, campaign_id in enumerate(campaign_ids, start=1):
        try:
            campaign_counters_rebuild(campaign_id=campaign_id)
        except CountersKeepDroppedClicks as refused:
            progress(f"{refused} ({done} of {len(campaign_ids)})")
            continue
        built += 1
        progress(f"campaign {campaign_id}: counted ({done} of {len(campaign_ids)})")
    return built


def click_counters_verify(
    *, org_id: int | None = None, repair: bool = False, progress: Callable[[str], None] = logger.warning
) -> list[str]:
    """Count every campaign's stored clicks again and compare with its counters; returns every difference in
    words (and reports each through `progress`). With `repair`, a campaign that differs is rebuilt."""
    differences = []
    for campaign_id in campaigns_with_clicks(org_id=org_id):
        found = campaign_counters_differences(campaign_id=campaign_id)
        for difference in found:
            progress(difference)
        if found and repair:
            try:
                campaign_counters_rebuild(campaign_id=campaign_id)
            except CountersKeepDroppedClicks as refused:
                progress(str(refused))
                continue
            progress(f"campaign {campaign_id}: counters rebuilt from its stored clicks")
        differences += found
    return differences
