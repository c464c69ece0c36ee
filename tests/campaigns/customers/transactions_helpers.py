"""What the transactions tests share: a campaign whose message reached a customer at a given time, a click on it,
and a purchase stored as the import and the API store it."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from campaigns.customers.attribution import campaign_sales_recount
from campaigns.customers.transaction_rows import TransactionRow
from campaigns.customers.transactions import SOURCE_API, transactions_store
from campaigns.models import Campaign, CampaignSales, Customer, Template
from delivery.models import Message
from linktrack.models import ShortLink
from tests.factories import CampaignFactory, ClickFactory, MessageFactory

IST = ZoneInfo("Asia/Kolkata")


def ist(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=IST)


def reached(template: Template, customer: Customer, at: datetime, *, name: str = "Sale", status: str = "delivered"):
    """A campaign whose message to `customer` was sent a minute before `at` and delivered at `at` (or, for another
    status, sent at `at`); returns the campaign and its message."""
    campaign = CampaignFactory(template=template, name=name, status="dispatched")
    if status == "delivered":
        message = MessageFactory(
            campaign=campaign, customer=customer, status=status, sent_at=at - timedelta(minutes=1), finished_at=at
        )
    else:
        message = MessageFactory(campaign=campaign, customer=customer, status=status, sent_at=at)
    return campaign, message


def click(message: Message, at: datetime) -> None:
    link, _ = ShortLink.objects.get_or_create(campaign=message.campaign, destination="https://acme.test/sale")
    ClickFactory(short_link=link, campaign=message.campaign, message=message, clicked_at=at)


def buy(org, transaction_id: str, at: datetime, amount: str = "100.00", *, currency: str = "INR", **who):
    """Store one purchase (by default of the customer C1) and count the campaigns it touched; returns the result."""
    who = who or {"external_id": "C1"}
    row = TransactionRow(
        line=1, transaction_id=transaction_id, time=at, amount=Decimal(amount), currency=currency, **who
    )
    stored = transactions_store(org=org, rows=[row], source=SOURCE_API)
    campaign_sales_recount(stored.campaigns)
    return stored


def sales(campaign: Campaign) -> tuple:
    """(clicked buyers, clicked revenue, other buyers, other revenue) of the campaign in INR."""
    row = CampaignSales.objects.filter(campaign=campaign, currency="INR").first()
    if row is None:
        return (0, Decimal(0), 0, Decimal(0))
    return (row.clicked_buyers, row.clicked_revenue, row.other_buyers, row.other_revenue)
