"""Who may see what: a campaign manager reaches the objects of their orgs, support staff those of every org;
another org's object is a 404, exactly like one that does not exist. Every page finds its objects here."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from campaigns.models import Campaign, Customer, CustomerList, Org, Segment, Template, User


def orgs_for_user(user: User) -> QuerySet[Org]:
    """Support staff see every org; a campaign manager sees the orgs they belong to."""
    if user.is_staff:
        return Org.objects.all()
    return Org.objects.filter(memberships__user=user)


def in_users_orgs(user: User, objects: QuerySet) -> QuerySet:
    """Those of `objects` (of any model with an `org`) that belong to the user's orgs."""
    return objects.filter(org__in=orgs_for_user(user))


def get_in_users_orgs(user: User, objects: QuerySet, pk) -> Model:
    """The org-or-404 rule: the object with this pk among the user's orgs' ones, else a 404."""
    return get_object_or_404(in_users_orgs(user, objects), pk=pk)


def campaigns_for_user(user: User) -> QuerySet[Campaign]:
    return in_users_orgs(user, Campaign.objects.select_related("org", "template"))


def templates_for_user(user: User) -> QuerySet[Template]:
    return in_users_orgs(user, Template.objects.select_related("org", "sender"))


def customers_for_user(user) -> QuerySet[Customer]:
    return in_users_orgs(user, Customer.objects.all())


def get_org_for_user(user: User, pk: int) -> Org:
    return get_object_or_404(orgs_for_user(user), pk=pk)


def get_customer_for_user(user, pk: int) -> Customer:
    return get_in_users_orgs(user, Customer.objects.select_related("org"), pk)


def get_list_for_user(user, pk: int) -> CustomerList:
    return get_in_users_orgs(user, CustomerList.objects.select_related("org"), pk)


def get_segment_for_user(user, pk: int) -> Segment:
    return get_in_users_orgs(user, Segment.objects.select_related("org"), pk)


def get_template_for_user(user, pk: int) -> Template:
    return get_object_or_404(templates_for_user(user), pk=pk)


def get_campaign_for_user(user, pk: int, *related: str) -> Campaign:
    return get_object_or_404(campaigns_for_user(user).select_related("org", *related), pk=pk)


def refuse_other_orgs_lists(user, list_ids: list[str]) -> None:
    """A posted list id of another org is a 404, like its page."""
    ids = [int(list_id) for list_id in list_ids if list_id.isdigit()]
    if CustomerList.objects.filter(pk__in=ids).exclude(org__in=orgs_for_user(user)).exists():
        raise Http404("No such list.")


def staff_required(view):
    """Anonymous visitors go to the login page; signed-in users who are not support staff get 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Support staff only.")
        return view(request, *args, **kwargs)

    return wrapper
