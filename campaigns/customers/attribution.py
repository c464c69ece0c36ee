"""Attribution: which campaign a purchase counts for, and the sales counters every page reads.

The rule, as the pages say it: a purchase counts for a campaign when the customer got one of its messages (delivered,
or sent where delivery is unknown) and bought within the org's window of N days after that: from the moment the
message was delivered (or sent) until the end of the Nth day after that day, on the org's clock. It is a *click*
conversion when the customer clicked a link of that message before buying. Last touch: a purchase counts for at most
one campaign per rule, the one of the latest message sent before it (for the click rule, the latest one they clicked).

Each transaction keeps what attribution found (`message_campaign`, `click_campaign`) and each campaign its counters
(CampaignSales), rewritten from its transactions whenever they change: when transactions arrive or change, when a
customer they were waiting for is imported, and every TRANSACTIONS_REATTRIBUTE_SECONDS for the purchases of the last
RECEIPT_WAIT_HOURS (+1 hour), whose messages may still get their receipt (or none) or a late click. Pages read only
the counters. A recurring campaign adds up its runs (a buyer after two runs counts in each).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce

from campaigns.base import clock
from campaigns.customers.transaction_rows import window_start
from campaigns.models import Campaign, CampaignSales, Org, Transaction
from delivery.models import Message
from linktrack.models import Click

# A message the customer got: delivered, or handed to the gateway with no final word (or none there will be).
GOT = (Message.Status.DELIVERED, Message.Status.SENT, Message.Status.UNKNOWN)
# Fewer buyers than this in a group and its rate is noise: the pages say "too few to compare".
MIN_BUYERS_TO_COMPARE = 30
ATTRIBUTION_IN_WORDS = (
    "A purchase counts for a campaign when the customer got one of its messages and bought within {days} days after "
    "it was delivered (or sent, where delivery is unknown): until the end of the {days}th day after that day, on "
    "your organisation's clock. It counts as bought after a click when the customer clicked a link of that "
    "message before buying. Last touch: a purchase counts for one campaign only, the one of the latest message "
    "sent before it (and, after a click, of the latest one they clicked)."
)


def attribution_in_words(org: Org) -> str:
    return ATTRIBUTION_IN_WORDS.format(days=org.attribution_window_days)


def _touches() -> QuerySet[Message]:
    """The messages that reached the outer transaction's customer within its window, latest sent first."""
    touched_at = Case(
        When(status=Message.Status.DELIVERED, then=Coalesce("finished_at", "sent_at")), default=F("sent_at")
    )
    # Sent before the purchase, and at most a receipt's wait before the window (a delivery after that is "no
    # receipt"): bounds on sent_at that let the index on (customer, sent_at) read only the window's messages.
    earliest_sent = ExpressionWrapper(
        OuterRef("window_start") - timedelta(hours=settings.RECEIPT_WAIT_HOURS + 24), output_field=DateTimeField()
    )
    return (
        Message.objects.filter(
            customer_id=OuterRef("customer_id"),
            status__in=GOT,
            sent_at__lte=OuterRef("time"),
            sent_at__gte=earliest_sent,
        )
        .annotate(touched_at=touched_at)
        .filter(touched_at__lte=OuterRef("time"), touched_at__gte=OuterRef("window_start"))
        # Latest sent first: the order of the index on (customer, sent_at), so PostgreSQL reads the customer's
        # messages from the purchase backwards and stops at the first that counts (two messages sent to one
        # customer in the same microsecond: either).
        .order_by("-sent_at")
    )


def attribution() -> dict[str, Subquery]:
    """The campaigns the outer row's purchase counts for (the row: a Transaction, or an IncomingTransaction on its
    way in), as two expressions: `message_campaign` and `click_campaign`."""
    touches = _touches()
    # A click of the message, after it was sent (which lets PostgreSQL read only the months of clicks from then on)
    # and before the purchase.
    clicked_first = Click.objects.filter(
        message_id=OuterRef("pk"),
        is_bot=False,
        clicked_at__gte=OuterRef("sent_at"),
        clicked_at__lte=OuterRef(OuterRef("time")),
    )
    return {
        "message_campaign": Subquery(touches.values("campaign_id")[:1]),
        "click_campaign": Subquery(touches.filter(Exists(clicked_first)).values("campaign_id")[:1]),
    }


def transactions_attribute(transactions: QuerySet[Transaction]) -> set[int]:
    """Attribute `transactions` again (those of erased customers keep theirs); returns the campaigns whose
    counters may have changed: those the transactions counted for before or count for now. (New transactions are
    attributed as they are written: campaigns.customers.transactions.)"""
    transactions = transactions.filter(customer__isnull=False)
    before = _campaigns_of(transactions)
    transactions.update(**attribution(), buyer_key=F("customer_id"))
    return before | _campaigns_of(transactions)


def _campaigns_of(transactions: QuerySet[Transaction]) -> set[int]:
    found = set()
    for message_campaign, click_campaign in transactions.values_list("message_campaign_id", "click_campaign_id"):
        found.update(pk for pk in (message_campaign, click_campaign) if pk)
    return found


@transaction.atomic
def campaign_sales_recount(campaign_ids: Iterable[int]) -> None:
    """Rewrite the sales counters of these campaigns from their transactions (one at a time per campaign: the
    campaigns' rows are locked while it counts)."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return
    ids = list(Campaign.objects.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk", flat=True))
    rows: dict[tuple[int, str], CampaignSales] = {}
    clicked = (
        Transaction.objects.filter(click_campaign_id__in=ids)
        .values("click_campaign_id", "currency")
        .annotate(buyers=Count("buyer_key", distinct=True), purchases=Count("pk"), revenue=Sum("amount"))
    )
    for row in clicked:
        sales = rows.setdefault(
            (row["click_campaign_id"], row["currency"]),
            CampaignSales(campaign_id=row["click_campaign_id"], currency=row["currency"]),
        )
        sales.clicked_buyers, sales.clicked_purchases, sales.clicked_revenue = (
            row["buyers"],
            row["purchases"],
            row["revenue"],
        )
    others = (
        Transaction.objects.filter(message_campaign_id__in=ids)
        .filter(Q(click_campaign_id__isnull=True) | ~Q(click_campaign_id=F("message_campaign_id")))
        .values("message_campaign_id", "currency")
        .annotate(buyers=Count("buyer_key", distinct=True), purchases=Count("pk"), revenue=Sum("amount"))
    )
    for row in others:
        sales = rows.setdefault(
            (row["message_campaign_id"], row["currency"]),
            CampaignSales(campaign_id=row["message_campaign_id"], currency=row["currency"]),
        )
        sales.other_buyers, sales.other_purchases, sales.other_revenue = row["buyers"], row["purchases"], row["revenue"]
    CampaignSales.objects.filter(campaign_id__in=ids).delete()
    CampaignSales.objects.bulk_create(rows.values())


def transactions_reattribute_recent() -> int:
    """Attribute again the purchases whose messages may still change (a receipt, or its absence, comes up to
    RECEIPT_WAIT_HOURS after sending; a click is stored seconds after it): those of the last RECEIPT_WAIT_HOURS
    and an hour. Returns how many campaigns' counters were rewritten."""
    since = clock.now() - timedelta(hours=settings.RECEIPT_WAIT_HOURS + 1)
    changed: set[int] = set()
    for org_id in Transaction.objects.filter(time__gte=since).values_list("org_id", flat=True).distinct():
        changed |= transactions_attribute(Transaction.objects.filter(org_id=org_id, time__gte=since))
    campaign_sales_recount(changed)
    return len(changed)


def org_transactions_reattribute(*, org: Org, batch_size: int = 5000) -> int:
    """Every purchase of the org attributed again, with its window from the org's setting now (after the window
    changed, or to rebuild the counters); returns how many transactions were read."""
    changed: set[int] = set()
    last_pk, done = 0, 0
    while True:
        batch = list(Transaction.objects.filter(org=org, pk__gt=last_pk).order_by("pk").only("pk", "time")[:batch_size])
        if not batch:
            break
        for row in batch:
            row.window_start = window_start(row.time, org_timezone=org.timezone, days=org.attribution_window_days)
        Transaction.objects.bulk_update(batch, ["window_start"])
        changed |= transactions_attribute(Transaction.objects.filter(pk__in=[row.pk for row in batch]))
        last_pk, done = batch[-1].pk, done + len(batch)
    # Campaigns whose counters come from transactions no longer attributed to them are rewritten (to nothing) too.
    changed |= set(CampaignSales.objects.filter(campaign__org=org).values_list("campaign_id", flat=True))
    campaign_sales_recount(changed)
    return done


# --- What the pages read -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesGroup:
    """Buyers and revenue of one group of a campaign's recipients (those who clicked, or those who did not)."""

    recipients: int
    buyers: int
    purchases: int
    revenue: Decimal

    @property
    def too_few(self) -> bool:
        return self.buyers < MIN_BUYERS_TO_COMPARE

    @property
    def conversion_rate(self) -> float | None:
        """Buyers per 100 recipients of the group."""
        return round(100 * self.buyers / self.recipients, 1) if self.recipients else None

    @property
    def revenue_per_recipient(self) -> Decimal | None:
        return (self.revenue / self.recipients).quantize(Decimal("0.01")) if self.recipients else None


@dataclass(frozen=True)
class CampaignSalesFigures:
    """A campaign's attributed sales in one currency: those who clicked before buying against those who got the
    message and did not click it."""

    currency: str
    clicked: SalesGroup
    not_clicked: SalesGroup

    @property
    def buyers(self) -> int:
        return self.clicked.buyers + self.not_clicked.buyers

    @property
    def revenue(self) -> Decimal:
        return self.clicked.revenue + self.not_clicked.revenue

    @property
    def revenue_per_recipient(self) -> Decimal | None:
        recipients = self.clicked.recipients + self.not_clicked.recipients
        return (self.revenue / recipients).quantize(Decimal("0.01")) if recipients else None

    @property
    def groups(self) -> list[tuple[str, SalesGroup, str]]:
        """The two groups with their names, as the pages list them."""
        return [
            ("Clicked before buying", self.clicked, "clicked"),
            ("Delivered, did not click", self.not_clicked, "did_not_click"),
        ]

    @property
    def comparable(self) -> bool:
        return not (self.clicked.too_few or self.not_clicked.too_few)

    def as_json(self) -> dict:
        def group(figures: SalesGroup) -> dict:
            return {
                "recipients": figures.recipients,
                "buyers": figures.buyers,
                "purchases": figures.purchases,
                "revenue": str(figures.revenue),
                "conversion_rate": figures.conversion_rate,
                "revenue_per_recipient": str(figures.revenue_per_recipient)
                if figures.revenue_per_recipient is not None
                else None,
                "too_few_to_compare": figures.too_few,
            }

        return {
            "currency": self.currency,
            "clicked": group(self.clicked),
            "did_not_click": group(self.not_clicked),
            "revenue": str(self.revenue),
            "revenue_per_recipient": str(self.revenue_per_recipient)
            if self.revenue_per_recipient is not None
            else None,
        }


def campaign_sales(
    *, campaign_ids: list[int], delivered: dict[int, int], clickers: dict[int, int]
) -> dict[int, list[CampaignSalesFigures]]:
    """Each campaign's sales per currency (a recurring campaign adds up its runs), in one query of the counters.

    `delivered` and `clickers` are each campaign's delivered messages and unique clickers, as its page already read
    them: the groups are the clickers and the delivered who did not click."""
    totals: dict[tuple[int, str], list[int | Decimal]] = {}
    rows = CampaignSales.objects.filter(Q(campaign_id__in=campaign_ids) | Q(campaign__parent_id__in=campaign_ids))
    for campaign_id, parent_id, currency, *figures in rows.values_list(
        "campaign_id",
        "campaign__parent_id",
        "currency",
        "clicked_buyers",
        "clicked_purchases",
        "clicked_revenue",
        "other_buyers",
        "other_purchases",
        "other_revenue",
    ):
        owner = campaign_id if campaign_id in campaign_ids else parent_id
        sums = totals.setdefault((owner, currency), [0, 0, Decimal(0), 0, 0, Decimal(0)])
        for position, value in enumerate(figures):
            sums[position] += value
    found: dict[int, list[CampaignSalesFigures]] = {pk: [] for pk in campaign_ids}
    for (campaign_id, currency), (cb, cp, cr, ob, op, orev) in sorted(totals.items(), key=_currency_order):
        clicked_recipients = clickers.get(campaign_id, 0)
        others = max(delivered.get(campaign_id, 0) - clicked_recipients, 0)
        found[campaign_id].append(
            CampaignSalesFigures(
                currency=currency,
                clicked=SalesGroup(recipients=clicked_recipients, buyers=cb, purchases=cp, revenue=cr),
                not_clicked=SalesGroup(recipients=others, buyers=ob, purchases=op, revenue=orev),
            )
        )
    return found


def _currency_order(item) -> tuple:
    (campaign_id, currency), _ = item
    return (campaign_id, currency != "INR", currency)
