"""What customers do when other apps report something about them (connected in campaigns.apps)."""

import logging

from django.dispatch import receiver

from campaigns.customers.unsubscribes import customer_unsubscribe
from campaigns.models import Customer
from delivery.signals import stop_replied

logger = logging.getLogger(__name__)


@receiver(stop_replied)
def stop_reply_unsubscribes(*, org_id: int, mobile: str | None, note: str, **_) -> int:
    """A STOP reply unsubscribes the customer with that number from SMS; returns 1 when it changed anything."""
    customer = Customer.objects.filter(org_id=org_id, mobile=mobile).first() if mobile else None
    if customer is None:
        logger.info("STOP reply from a number that is no customer of org %s", org_id)
        return 0
    return int(customer_unsubscribe(customer=customer, channel="sms", source="stop_reply", note=note))
