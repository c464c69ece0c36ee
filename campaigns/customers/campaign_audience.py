"""Who a campaign of any kind reaches, before the per-recipient checks: its list or segment (campaigns.customers.
audience), the recipients of the source campaign a resend targets, or the customers whose coupon expires."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from campaigns.base import clock
from campaigns.customers.audience import audience_customers
from campaigns.models import Campaign, Coupon, Customer
from delivery.models import Message

# Outcomes a resend may target that are not a reason code: accepted by the gateway, no receipt yet.
WAITING_FOR_RECEIPT = "no_receipt"


def campaign_audience(campaign: Campaign) -> QuerySet[Customer]:
    """Who a campaign of any kind reaches, before the per-recipient checks."""
    if campaign.kind == Campaign.Kind.RESEND:
        return Customer.objects.filter(
            pk__in=resend_messages(source=campaign.resend_of, reasons=campaign.resend_reasons).values("customer_id"),
            erased_at__isnull=True,  # an erased customer is never messaged again
        )
    customers = audience_customers(campaign=campaign)
    if campaign.kind == Campaign.Kind.COUPON_REMINDER:
        expiring = Coupon.objects.filter(customer=OuterRef("pk"), expires_on=coupon_expiry_date(campaign))
        customers = customers.filter(Exists(expiring))
    return customers


def resend_messages(*, source: Campaign, reasons: list[str]) -> QuerySet[Message]:
    """The source campaign's messages whose outcome is one of `reasons` (no_receipt also takes those still waiting)."""
    condition = Q(reason_code__in=reasons) & ~Q(status__in=(Message.Status.DELIVERED, Message.Status.SENT))
    if WAITING_FOR_RECEIPT in reasons:
        condition |= Q(status=Message.Status.SENT)
    return Message.objects.filter(condition, campaign=source)


def coupon_expiry_date(campaign: Campaign) -> date:
    """Coupons expiring `coupon_days` after the run's day, in the org's time zone."""
    started = campaign.launched_at or clock.now()
    return started.astimezone(ZoneInfo(campaign.org.timezone)).date() + timedelta(days=campaign.coupon_days or 0)
