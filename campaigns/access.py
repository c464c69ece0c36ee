"""Who may see what: a campaign manager reaches the customers, lists and segments of their orgs, support staff
those of every org; another org's object is a 404, exactly like one that does not exist."""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from campaigns.models import Campaign, Customer, CustomerList, Segment
from campaigns.selectors import campaigns_for_user, orgs_for_user


def customers_for_user(user) -> QuerySet[Customer]:
    return Customer.objects.filter(org__in=orgs_for_user(user))


def get_customer_for_user(user, pk: int) -> Customer:
    return get_object_or_404(customers_for_user(user).select_related("org"), pk=pk)


def get_list_for_user(user, pk: int) -> CustomerList:
    return get_object_or_404(CustomerList.objects.filter(org__in=orgs_for_user(user)).select_related("org"), pk=pk)


def refuse_other_orgs_lists(user, list_ids: list[str]) -> None:
    """A posted list id of another org is a 404, like its page."""
    ids = [int(list_id) for list_id in list_ids if list_id.isdigit()]
    if CustomerList.objects.filter(pk__in=ids).exclude(org__in=orgs_for_user(user)).exists():
        raise Http404("No such list.")


def get_segment_for_user(user, pk: int) -> Segment:
    return get_object_or_404(Segment.objects.filter(org__in=orgs_for_user(user)).select_related("org"), pk=pk)


def get_campaign_for_user(user, pk: int) -> Campaign:
    return get_object_or_404(campaigns_for_user(user).select_related("org"), pk=pk)
