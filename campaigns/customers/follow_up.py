"""Follow-up lists: who clicked a campaign's links, or who got it and did not click, and of those who clicked who
bought and who did not, as a list to target next.

Both are answered in SQL and inserted with one INSERT ... SELECT (customer_list_add_matching), so a campaign to a
million recipients makes its list as fast as a small one. A recurring campaign counts all its runs.
"""

from django.db import transaction
from django.db.models import Q, QuerySet

from campaigns.customers.audience import customer_list_add_matching, customer_list_create
from campaigns.models import Campaign, Customer, CustomerList, Transaction
from delivery.models import Message
from linktrack.models import ClickerDay

CLICKED = "clicked"
NOT_CLICKED = "not_clicked"
CLICKED_BOUGHT = "clicked_bought"
CLICKED_NOT_BOUGHT = "clicked_not_bought"
FOLLOW_UPS = {
    CLICKED: "clicked a link",
    NOT_CLICKED: "got it and did not click",
    CLICKED_BOUGHT: "clicked and bought",
    CLICKED_NOT_BOUGHT: "clicked, did not buy",
}


def follow_up_customers(*, campaign: Campaign, who: str) -> QuerySet[Customer]:
    """The campaign's recipients who clicked (people, not link previews), or whose message was delivered and who
    did not click; or of those who clicked, the ones who bought after clicking (a purchase attributed to the campaign
    by the click rule, campaigns.customers.attribution) and the ones with no purchase counted for it."""
    if who not in FOLLOW_UPS:
        raise ValueError(f"unknown follow-up {who!r}")
    sent = Campaign.objects.filter(Q(pk=campaign.pk) | Q(parent_id=campaign.pk)).values("pk")
    # The click counters know which recipients clicked (people only), once per day and link.
    clicked = ClickerDay.objects.filter(campaign_id__in=sent, message_id__isnull=False).values("message_id")
    clickers = Message.objects.filter(pk__in=clicked).values("customer_id")
    customers = Customer.objects.filter(org_id=campaign.org_id)
    if who == CLICKED:
        return customers.filter(pk__in=clickers)
    if who in (CLICKED_BOUGHT, CLICKED_NOT_BOUGHT):
        purchases = Transaction.objects.filter(customer__isnull=False)
        if who == CLICKED_BOUGHT:
            return customers.filter(pk__in=clickers).filter(
                pk__in=purchases.filter(click_campaign_id__in=sent).values("customer_id")
            )
        counted = purchases.filter(Q(click_campaign_id__in=sent) | Q(message_campaign_id__in=sent))
        return customers.filter(pk__in=clickers).exclude(pk__in=counted.values("customer_id"))
    delivered = Message.objects.filter(campaign_id__in=sent, status=Message.Status.DELIVERED).values("customer_id")
    return customers.filter(pk__in=delivered).exclude(pk__in=clickers)


def follow_up_list_name(*, campaign: Campaign, who: str) -> str:
    return f"{campaign.name}: {FOLLOW_UPS[who]}"


@transaction.atomic
def follow_up_list_create(*, campaign: Campaign, who: str, name: str) -> tuple[CustomerList, int]:
    """A new list of the campaign's clickers (or non-clickers); returns it and how many customers it holds."""
    customer_list = customer_list_create(org=campaign.org, name=name)
    added = customer_list_add_matching(
        customer_list=customer_list, customers=follow_up_customers(campaign=campaign, who=who)
    )
    return customer_list, added
