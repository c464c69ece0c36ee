"""Short links: mint a campaign's links for its org's short domain, and write them as a message shows them."""

from collections.abc import Iterable

from django.conf import settings

from linktrack.models import ShortDomain, ShortLink
from linktrack.redirect import codes
from linktrack.redirect.short_domains import minting_domain


def short_links_for(*, campaign, destinations: Iterable[str]) -> dict[str, int]:
    """The short link id of each destination of a campaign, minting the ones that do not exist yet.

    Links are minted for the org's current short domain; links sent before a domain change keep theirs.
    """
    wanted = set(destinations)
    domain = minting_domain(org=campaign.org)
    links = ShortLink.objects.filter(campaign=campaign, short_domain=domain, destination__in=wanted)
    existing = dict(links.values_list("destination", "pk"))
    missing = [
        ShortLink(campaign=campaign, short_domain=domain, destination=d, expires_at=campaign.links_expire_at)
        for d in sorted(wanted - existing.keys())
    ]
    if missing:
        if domain:
            ShortDomain.objects.get_or_create(host=domain)
        ShortLink.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(links.values_list("destination", "pk"))
    return existing


def short_link_base(*, org) -> str:
    """What every short link of an org starts with, as a message shows it: `s.cplry.com/` or `127.0.0.1:8000/s/`."""
    domain = minting_domain(org=org)
    base = f"https://{domain}/" if domain else settings.SHORT_LINK_BASE_URL
    if not (org.short_link_with_scheme or settings.SHORT_LINK_SHOW_SCHEME):
        base = base.split("://", 1)[-1]
    return base


def short_url(*, org, short_link_id: int, message_id: int | None) -> str:
    return short_link_base(org=org) + codes.encode(short_link_id, message_id)
