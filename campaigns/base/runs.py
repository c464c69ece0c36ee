"""A recurring campaign's runs count for it: figures asked for the recurring campaign include its runs'."""

from django.db.models import Case, F, When


def campaign_owner(campaign_ids: list[int]) -> Case:
    """For rows with a `campaign`: the campaign among `campaign_ids` they count for (a run counts for its
    recurring campaign when that is asked for, else for itself)."""
    return Case(When(campaign__parent_id__in=campaign_ids, then=F("campaign__parent_id")), default=F("campaign_id"))
