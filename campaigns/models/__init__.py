"""The ground floor: users, orgs, customers, DLT senders and templates, campaigns, one module per concern.
Imports no other app and nothing else of campaigns; every app may import it (always from `campaigns.models`)."""

from campaigns.models.accounts import Authenticator, CreditTopUp, Membership, Org, RecoveryCode, User, UserManager
from campaigns.models.campaign import Campaign, CampaignEvent, DispatchBatchDone
from campaigns.models.common import Channel, TimeStamped
from campaigns.models.customers import Coupon, Customer, CustomerList, NdncEntry, Segment, Unsubscribe
from campaigns.models.dlt import SenderId, Template, WhitelistedUrl
from campaigns.models.transactions import CampaignSales, IncomingTransaction, Transaction, TransactionChange

__all__ = [
    "Authenticator",
    "Campaign",
    "CampaignEvent",
    "CampaignSales",
    "Channel",
    "Coupon",
    "CreditTopUp",
    "Customer",
    "CustomerList",
    "DispatchBatchDone",
    "IncomingTransaction",
    "Membership",
    "NdncEntry",
    "Org",
    "RecoveryCode",
    "Segment",
    "SenderId",
    "Template",
    "TimeStamped",
    "Transaction",
    "TransactionChange",
    "Unsubscribe",
    "User",
    "UserManager",
    "WhitelistedUrl",
]
