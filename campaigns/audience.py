"""Who a campaign reaches, and who asked not to be reached. Reads and writes customers only."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet

from campaigns.models import Campaign, Customer, NdncEntry, Org, Unsubscribe

_SEGMENT_OPS = {
    "eq": lambda key, value: Q(**{f"attributes__{key}": value}),
    "ne": lambda key, value: ~Q(**{f"attributes__{key}": value}),
    "in": lambda key, value: Q(**{f"attributes__{key}__in": list(value)}),
    "contains": lambda key, value: Q(**{f"attributes__{key}__icontains": value}),
}


def audience_customers(*, campaign: Campaign) -> QuerySet[Customer]:
    """A campaign's target: its list, its segment, or every customer of its org."""
    customers = Customer.objects.filter(org_id=campaign.org_id)
    if campaign.audience_list_id:
        customers = customers.filter(lists=campaign.audience_list_id)
    if campaign.audience_segment_id:
        for condition in campaign.audience_segment.conditions:
            customers = customers.filter(_SEGMENT_OPS[condition["op"]](condition["attribute"], condition["value"]))
    return customers


def ndnc_blocked_mobiles(*, org: Org, mobiles: Iterable[str], category: int) -> set[str]:
    """The numbers among `mobiles` on the org's NDNC register that refuse promotional messages of `category`."""
    blocked = set()
    for mobile, categories in NdncEntry.objects.filter(org=org, mobile__in=list(mobiles)).values_list(
        "mobile", "blocked_categories"
    ):
        if 0 in categories or category in categories or not categories:
            blocked.add(mobile)
    return blocked


@transaction.atomic
def customer_unsubscribe(*, customer: Customer, channel: str, source: str, note: str = "") -> bool:
    """Unsubscribe a customer from a channel; returns False when they already were (nothing recorded twice)."""
    field = f"{channel}_subscribed"
    changed = Customer.objects.filter(pk=customer.pk, **{field: True}).update(**{field: False})
    if changed:
        Unsubscribe.objects.create(customer=customer, channel=channel, source=source, note=note)
    return bool(changed)
