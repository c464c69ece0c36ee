"""Helpers of the campaign history tests: a campaign's events, the supervisor's pass."""

from campaigns.lifecycle import services
from campaigns.models import Campaign, CampaignEvent
from campaigns.sending import dispatch
from campaigns.sending.supervisor import campaigns_supervise
from tests.factories import create_campaign, make_customers

Kind = CampaignEvent.Kind


def history(campaign: Campaign) -> list[tuple[str, str | None, str]]:
    """(kind, who, detail) of every event, oldest first."""
    events = CampaignEvent.objects.filter(campaign=campaign).order_by("at", "pk")
    return [(e.kind, e.user.email if e.user else None, e.detail) for e in events.select_related("user")]


def supervise(capture) -> dict:
    with capture(execute=True):
        return campaigns_supervise()


def prepared(template, manager, count=10) -> Campaign:
    """A launched campaign whose messages are prepared and queued, none handed to the gateway yet."""
    make_customers(template.org, count)
    campaign = create_campaign(template, manager)
    services.campaign_launch(campaign=campaign, user=manager)  # on-commit tasks never run in this test
    dispatch.campaign_dispatch(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    return campaign
