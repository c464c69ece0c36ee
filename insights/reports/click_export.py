"""A campaign's clicks, one row each, for spreadsheets: when, who, which link, from what device.

Only clicks by a person, so the rows add up to the Total Click Count; link previews and crawlers are left out as
they are from the counts. Read in chunks, one query per chunk whatever the number of clicks.
"""

from collections.abc import Iterator
from zoneinfo import ZoneInfo

from campaigns.models import Campaign
from linktrack.counts.devices import DEVICE_NAMES, device_of
from linktrack.models import Click

HEADER = ["clicked_at", "recipient", "customer_id", "customer_name", "link", "device", "channel"]


def campaign_click_rows(campaign: Campaign) -> Iterator[list]:
    zone = ZoneInfo(campaign.org.timezone)
    clicks = (
        Click.objects.filter(campaign=campaign, is_bot=False)
        .order_by("clicked_at", "pk")
        .values_list(
            "clicked_at",
            "message__recipient",
            "message__customer__external_id",
            "message__customer__name",
            "short_link__destination",
            "user_agent",
            "channel",
        )
    )
    for clicked_at, recipient, external_id, name, destination, user_agent, channel in clicks.iterator(2000):
        yield [
            clicked_at.astimezone(zone).isoformat(timespec="seconds"),
            recipient or "",
            external_id or "",
            name or "",
            destination,
            DEVICE_NAMES[device_of(user_agent)],
            channel,
        ]
