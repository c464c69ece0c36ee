"""Which emails a user gets: the summary email of a campaign they launched is on until they turn it off, on the
Notifications page or by the email's own signed "stop these emails" link."""

from django.core import signing
from django.urls import reverse

from campaigns.models import User
from linktrack.common.absolute_urls import public_url

STOP_SALT = "campaigns.summary_email.stop"  # signed into every stop link sent: never changes


def stop_token_for(*, user: User) -> str:
    """A signed token naming the user, for the email's "stop these emails" link; forged or altered ones fail.

    It carries no timestamp, so every email to a user has the same link and it keeps working."""
    return signing.Signer(salt=STOP_SALT).sign_object(user.pk, compress=True)


def stop_link_for(*, user: User) -> str:
    return public_url(reverse("notifications:stop", kwargs={"token": stop_token_for(user=user)}))


def user_for_stop_token(*, token: str) -> User | None:
    """The user a stop link names; None for a forged, altered or cut-short link, or a deleted account."""
    try:
        user_id = signing.Signer(salt=STOP_SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def campaign_summary_emails_set(*, user: User, on: bool) -> bool:
    """Turn the user's summary emails on or off; returns whether that changed anything."""
    return bool(User.objects.filter(pk=user.pk).exclude(campaign_summary_emails=on).update(campaign_summary_emails=on))
