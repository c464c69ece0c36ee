"""Unsubscribing from an email's own link: its token names the message, the message names the customer.

Every campaign email carries `<PUBLIC_BASE_URL>/u/<token>` (delivery/gateways/email.py signs the token). Anyone
holding the email may unsubscribe its recipient from email, and nobody else: a forged or altered token names no
message. Only the email channel changes; the customer's SMS subscription is theirs to keep.
"""

from dataclasses import dataclass

from campaigns.customers.unsubscribes import customer_unsubscribe
from campaigns.models import Channel, Customer, Unsubscribe
from delivery.gateways.email import unsubscribe_token_message_id
from delivery.models import Message


@dataclass(frozen=True)
class EmailOptOut:
    """The customer an unsubscribe link is about, and what the page may show of them."""

    customer: Customer
    org_name: str
    campaign_name: str
    masked_address: str

    @property
    def unsubscribed(self) -> bool:
        return not self.customer.email_subscribed


def email_opt_out_for_token(*, token: str) -> EmailOptOut | None:
    """The opt-out a link's token stands for; None for a forged, altered or unknown token (or a deleted message)."""
    message_id = unsubscribe_token_message_id(token)
    if message_id is None:
        return None
    message = (
        Message.objects.select_related("customer", "campaign__org").filter(pk=message_id, channel=Channel.EMAIL).first()
    )
    if message is None:
        return None
    return EmailOptOut(
        customer=message.customer,
        org_name=message.campaign.org.name,
        campaign_name=message.campaign.name,
        masked_address=masked_email(message.recipient),
    )


ONE_CLICK = "one-click from the mail app"
CONFIRMED = "confirmed on the unsubscribe page"
BY_EMAIL = "by email to the unsubscribe address"


def email_opt_out_confirm(*, opt_out: EmailOptOut, how: str) -> bool:
    """Unsubscribe the link's customer from email; False when they already were (nothing recorded twice)."""
    return customer_unsubscribe(
        customer=opt_out.customer,
        channel=Channel.EMAIL,
        source=Unsubscribe.Source.EMAIL_LINK,
        note=f"{how}, from the email of “{opt_out.campaign_name}”",
    )


def masked_email(address: str) -> str:
    """asha@acme.test -> a***@acme.test: enough for its owner to recognise, little for anyone the link reaches."""
    local_part, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local_part[:1]}***@{domain}"
