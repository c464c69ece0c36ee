"""Helpers of the link-tracking tests: a campaign's short link and the path a phone opens, clicks at given times."""

from datetime import datetime

from campaigns.models import Campaign
from delivery.models import Message
from linktrack.models import ShortLink
from linktrack.redirect import codes, short_links
from tests.factories import ClickFactory
from tests.helpers import IST

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
    "Mobile Safari/537.36"
)
DESTINATION = "https://shop.acme.test/sale?x=1#top"
# When the campaign of tests.factories.sent_campaign was sent, and two phones' browsers.
SENT = datetime(2026, 11, 20, 10, 5, tzinfo=IST)
CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"


def link_for(campaign: Campaign, destination: str = DESTINATION) -> ShortLink:
    link_id = short_links.short_links_for(campaign=campaign, destinations=[destination])[destination]
    return ShortLink.objects.get(pk=link_id)


def path_for(link: ShortLink, message: Message | None = None) -> str:
    return "/s/" + codes.encode(link.pk, message.pk if message else 0)


def add_click(link: ShortLink, message: Message | None, at: datetime, agent: str = CHROME_ANDROID, bot=False) -> None:
    """A click on the link at `at` by `message`'s recipient (None: a recipient not known)."""
    ClickFactory(short_link=link, campaign=link.campaign, message=message, channel="sms", clicked_at=at,
                 user_agent=agent, is_bot=bot)  # fmt: skip
