"""A campaign's history: who did what to it and when, and what linktrack did on its own and why.

Services record an event inside the transaction that makes the change, and only when the change happened; never
per message or per batch, so a campaign of 100,000 messages has a handful of events.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from campaigns.models import Campaign, CampaignEvent, User

HISTORY_LIMIT = 20
_DETAIL_LENGTH = CampaignEvent._meta.get_field("detail").max_length


@dataclass(frozen=True)
class CampaignHistory:
    events: list[CampaignEvent]  # newest first
    total: int

    @property
    def earlier(self) -> int:
        """How many older events the page does not show."""
        return self.total - len(self.events)


def campaign_event_record(*, campaign: Campaign, kind: str, user: User | None = None, detail: str = "") -> None:
    """Record that `kind` happened to `campaign`, done by `user` (None: by linktrack itself)."""
    CampaignEvent.objects.create(campaign_id=campaign.pk, kind=kind, user=user, detail=detail[:_DETAIL_LENGTH])


def campaign_history(*, campaign: Campaign, limit: int = HISTORY_LIMIT) -> CampaignHistory:
    """The latest `limit` events of a campaign, newest first, and how many it has in all (two queries)."""
    events = CampaignEvent.objects.filter(campaign_id=campaign.pk)
    latest = list(events.select_related("user").order_by("-at", "-pk")[:limit])
    return CampaignHistory(events=latest, total=events.count())


def in_org_time(moment: datetime, campaign: Campaign) -> str:
    """A time as an event's detail gives it: on the org's clock, as the campaign page writes times."""
    return f"{moment.astimezone(ZoneInfo(campaign.org.timezone)):%-d %b %Y %H:%M}"
