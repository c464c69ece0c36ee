"""Helpers of the campaigns tests: the campaign edit page's form, dispatching campaigns at the same moment."""

from functools import partial

from campaigns.models import Campaign
from campaigns.sending import dispatch
from tests.at_once import run_at_once


def edit_form(campaign: Campaign, **changes) -> dict:
    """The campaign edit page's fields for a campaign of the test template (a name field and a link), with changes."""
    data = {
        "name": campaign.name,
        "slot_1_source": "field",
        "slot_1_value": "name",
        "slot_2_source": "url",
        "slot_2_value": "https://acme.test/t",
        "kind": "one_time",
        "schedule": "",
        "coupon_days": "",
        "audience_list": "",
        "audience_segment": "",
    }
    return data | changes


def dispatch_at_once(campaigns: list[Campaign]) -> list[Exception]:
    """Dispatch the campaigns at the same moment, each in its own thread (its own database connection); returns
    what any of them raised."""
    results = run_at_once(*(partial(dispatch.campaign_dispatch, campaign_id=campaign.pk) for campaign in campaigns))
    return [result for result in results if isinstance(result, Exception)]
