"""Org settings only support staff change: credits (with their history) and the org's own short domain."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.db import transaction
from django.db.models import F
from django.http.request import validate_host

from campaigns.dlt import trai
from campaigns.models import CreditTopUp, Org, User
from linktrack.common.absolute_urls import app_hosts, host_of


@transaction.atomic
def org_credits_add(*, org: Org, amount: int, user: User, note: str = "") -> CreditTopUp:
    """Add credits (a negative amount takes some back, never below 0) and record who did it and why."""
    if amount == 0:
        raise ValidationError({"amount": "Give a number of credits other than 0."})
    org = Org.objects.select_for_update().get(pk=org.pk)  # a campaign reserving credits meanwhile waits
    if org.credits + amount < 0:
        raise ValidationError({"amount": f"{org.name} has {org.credits} credits; its balance cannot go below 0."})
    Org.objects.filter(pk=org.pk).update(credits=F("credits") + amount)
    return CreditTopUp.objects.create(
        org=org, amount=amount, balance_after=org.credits + amount, note=note.strip()[:200], created_by=user
    )


def short_domain_clean(value: str, *, app_host: str = "") -> str:
    """A bare host name ("s.cplry.com") from what support staff type ("https://S.cplry.com/"); refused in words.

    The app's own hosts are refused (see linktrack.common.absolute_urls.app_hosts), and so is `app_host`, the host
    the page that sets it was asked on: on a short domain every request is a short link, so the app would lose its
    pages there for good (a host links were minted on stays a short domain)."""
    domain = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not domain:
        return ""
    if "/" in domain or ":" in domain:
        raise ValidationError({"short_domain": "Give the host name only, like s.cplry.com (no path or port)."})
    try:
        DomainNameValidator(accept_idna=False)(domain)
    except ValidationError:
        raise ValidationError({"short_domain": f"“{domain}” is not a host name, like s.cplry.com."}) from None
    if domain in app_hosts() | {host_of(app_host)}:
        raise ValidationError(
            {
                "short_domain": f"{domain} is this app's own address: short links need a host of their own, like s.cplry.com."
            }
        )
    shortener = trai.public_shortener(f"https://{domain}/")
    if shortener:
        raise ValidationError({"short_domain": f"{shortener} is a public link shortener: operators block its links."})
    if not validate_host(domain, settings.ALLOWED_HOSTS):
        raise ValidationError(
            {
                "short_domain": f"This deployment does not answer for {domain}: add it (or .{domain.split('.', 1)[-1]}) "
                "to ALLOWED_HOSTS and point its DNS at the web servers first, or every link on it would fail."
            }
        )
    return domain


@transaction.atomic
def org_short_links_set(*, org: Org, short_domain: str, with_scheme: bool, user: User, app_host: str = "") -> Org:
    """The host new short links of the org are minted on, and whether messages show https:// before them.
    Links already sent keep the domain they were minted for. `app_host`: the host the app was reached on (refused)."""
    org = Org.objects.select_for_update().get(pk=org.pk)
    org.short_domain, org.short_link_with_scheme = short_domain_clean(short_domain, app_host=app_host), with_scheme
    org.full_clean()
    org.save(update_fields=["short_domain", "short_link_with_scheme", "updated_at"])
    return org
