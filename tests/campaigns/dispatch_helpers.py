"""Shared set-up for the dispatch and campaign-type tests."""

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import pytest

from campaigns.base import clock
from campaigns.lifecycle import services
from campaigns.models import Campaign, SenderId, Template
from campaigns.sending import dispatch
from tests.at_once import run_at_once

IST = ZoneInfo("Asia/Kolkata")
LINK_SLOTS = [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/t"}]


def make_campaign(template: Template, user, **fields) -> Campaign:
    return services.campaign_create(
        org=template.org,
        user=user,
        name=fields.pop("name", "Campaign"),
        template=template,
        slot_values=fields.pop("slot_values", LINK_SLOTS),
        **fields,
    )


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


def launch(campaign: Campaign, user, capture, **kwargs) -> Campaign:
    with capture(execute=True):
        services.campaign_launch(campaign=campaign, user=user, **kwargs)
    campaign.refresh_from_db()
    return campaign


class Clock:
    """Moves the dispatcher's clock (and so services' and the supervisor's)."""

    def __init__(self, monkeypatch):
        self.moment = datetime(2026, 11, 23, 12, 0, tzinfo=IST)
        monkeypatch.setattr(clock, "now", lambda: self.moment)

    def set(self, *args) -> datetime:
        self.moment = datetime(*args, tzinfo=IST)
        return self.moment


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture(name="promotional_template")
def promotional_template_fixture(org) -> Template:
    sender = SenderId.objects.create(
        org=org,
        header="567890",
        category=SenderId.Category.PROMOTIONAL,
        dlt_entity_id="1701160000000000002",
        ncpr_category=2,
    )
    return Template.objects.create(
        org=org,
        name="Sale",
        sender=sender,
        dlt_template_id="1707160000000000002",
        body="Hi {#var#}, our sale is on: {#var#} - Acme",
    )
