"""Helpers shared by tests of several apps: the clock of the dispatcher, launching a campaign as its page does."""

from datetime import datetime
from zoneinfo import ZoneInfo

from campaigns.accounts.sign_in import signed_in_here_mark
from campaigns.base import clock
from campaigns.lifecycle import services as campaign_services
from campaigns.models import Campaign

IST = ZoneInfo("Asia/Kolkata")
# The domain of bounce addresses (EMAIL_BOUNCE_DOMAIN) in the tests of bounces and unsubscribes by email.
BOUNCE_DOMAIN = "bounces.acme.test"


def launch(campaign: Campaign, user, capture, **kwargs) -> Campaign:
    """Launch as the campaign page does; the dispatch and send tasks run in-process on commit."""
    with capture(execute=True):
        campaign_services.campaign_launch(campaign=campaign, user=user, **kwargs)
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


def admin_sign_in(client, user) -> None:
    """Sign `user` in as the sign-in page does, so the admin admits the session (it refuses one made otherwise)."""
    client.force_login(user)
    session = client.session
    signed_in_here_mark(session)
    session.save()
