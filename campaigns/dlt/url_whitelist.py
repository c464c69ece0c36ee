"""Recording an org's DLT URL whitelist: the links its registration allows, static or dynamic (checked against it
in campaigns.dlt.trai)."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.dlt.trai import normalise_url, public_shortener, without_trailing_slash
from campaigns.models import Org, User, WhitelistedUrl

_URL_SHAPE = re.compile(
    r"(?:https?://)?(?:[^\s/?#@:]+\.)+[^\s/?#@:.]+(?::\d{1,5})?(?:[/?#]\S*)?|localhost(?::\d{1,5})?(?:[/?#]\S*)?", re.I
)


@transaction.atomic
def whitelisted_url_add(*, org: Org, user: User, url: str, kind: str) -> WhitelistedUrl:
    """Record a URL the org whitelisted on the DLT portal; raises ValidationError in words, by field."""
    url = url.strip()
    scheme = re.match(r"[a-z][a-z0-9+.-]*:(?!\d)", url, re.IGNORECASE)  # not a port: `localhost:8000`
    if scheme and not re.match(r"https?://", url, re.IGNORECASE):
        raise ValidationError({"url": "Only http and https links can be whitelisted."})
    if not _URL_SHAPE.fullmatch(url):
        raise ValidationError(
            {"url": f"'{url}' is not a web link. Write it as on the DLT portal, e.g. https://www.acme.in/sale."}
        )
    if kind == WhitelistedUrl.Kind.STATIC and "?" in url:
        raise ValidationError(
            {
                "kind": "A static URL has no '?'. A link with parameters is whitelisted on DLT as a dynamic URL: "
                "choose 'Dynamic URL' and give its fixed part, e.g. https://acme.in/order?id="
            }
        )
    shortener = public_shortener(url)
    if shortener:
        raise ValidationError(
            {"url": f"{shortener} is a public link shortener: operators do not accept it, whitelisted or not."}
        )
    for existing in WhitelistedUrl.objects.filter(org=org, kind=kind).order_by("pk"):
        if _same_entry(kind, existing.url, url):
            raise ValidationError({"url": f"Already on the whitelist as '{existing.url}'."})
    entry = WhitelistedUrl(org=org, url=url, kind=kind, created_by=user)
    entry.full_clean()
    entry.save()
    return entry


def _same_entry(kind: str, recorded: str, new: str) -> bool:
    """A static URL is the same with or without a trailing slash; a dynamic prefix is compared as written."""
    (host, rest), (new_host, new_rest) = normalise_url(recorded), normalise_url(new)
    if kind == WhitelistedUrl.Kind.STATIC:
        rest, new_rest = without_trailing_slash(rest), without_trailing_slash(new_rest)
    return (host, rest) == (new_host, new_rest)


def whitelisted_url_remove(*, entry: WhitelistedUrl, user: User) -> None:
    entry.delete()
