"""The org a page of one org at a time shows (Credits, Sending rules, Team, template import): the user's orgs by
name, and the one `?org=` names (another org's is a 404), else the first. The page draws
`campaigns/_org_chooser.html` to switch."""

from django.http import Http404

from campaigns.base.access import orgs_for_user
from campaigns.models import Org


def user_orgs(user) -> list[Org]:
    return list(orgs_for_user(user).order_by("name"))


def org_chosen(request, orgs: list[Org]) -> Org | None:
    """The org a page's ?org= names (one of `orgs`, the user's, else 404), or the first of them."""
    chosen = request.GET.get("org")
    if not chosen:
        return orgs[0] if orgs else None
    by_pk = {str(org.pk): org for org in orgs}
    if chosen not in by_pk:
        raise Http404("No such organisation.")
    return by_pk[chosen]


def org_choice(request) -> tuple[Org | None, list[Org]]:
    """The chosen org and the user's orgs to choose from."""
    orgs = user_orgs(request.user)
    return org_chosen(request, orgs), orgs
