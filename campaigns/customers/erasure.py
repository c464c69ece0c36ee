"""Erase a customer's personal data on request (India's Digital Personal Data Protection Act 2023, section 12),
without changing any campaign's figures.

What is erased:
- the customer's name, mobile number, email address, external id and attributes; their coupons; their place on
  every list. Their subscriptions are switched off and `erased_at` / `erased_by` say when and who;
- in every message to them, the recipient (replaced by ERASED_RECIPIENT) and the text: body, subject and HTML part
  hold their name and their personal short link;
- the gateway log of those messages (it holds the number and the text), and the logged STOP replies and unmatched
  receipts of the org's gateways that contain their number or address;
- of every click on their links, the hashed address and the user agent. Only the kind of device the campaign page
  counts (Android, iPhone / iPad, desktop) is kept, written as a fixed word, so its device figures stay.

What stays: the customer row itself (empty) and every message's campaign, channel, status, reason, gateway code,
segments and times, so delivery counts, percentages, reasons and credits stay exactly as they were; every click
(time, link, campaign, bot flag), so Unique and Total Click Count stay. Erased customers are left out of every
audience (campaigns.customers.audience, campaigns.sending.dispatch), so no later campaign messages or counts them.

Short links already sent keep redirecting: a code names a link and a message id, and the redirect reads no personal
data. A later click is stored against the message like any other click, and counts.

Unsubscribes. A later import with the same number creates a new customer: the erased one has no number, address or
external id left to match. If the person had unsubscribed, that new customer must stay unsubscribed. Keeping the
unsubscribe record pointing at the erased customer would not do it (nothing links the new row to the old one), and
keeping the number would undo the erasure. So the unsubscribe records of each channel they are unsubscribed from at
erasure keep the SHA-256 of the org, the channel and the normalised number (E.164) or address (lower case), see
Unsubscribe.hash_contact, and the customer import unsubscribes a new customer whose number or address hashes the
same (campaigns.customers.customer_import). A hash of a phone number can be found again by trying every number, so it is
pseudonymous data: it is kept for one purpose, honouring the person's own withdrawal of consent (which TRAI's rules
require too), only for people who unsubscribed, and never shown. A channel they were subscribed to keeps no hash:
erasure is not an unsubscribe. The notes of unsubscribe records are cleared (free text may name the person); the
channel, how and when stay in the customer's history.

Refused, in words, while a campaign is still sending to them: a message to them queued or being handed to the
gateway, or a campaign being prepared whose audience includes them and has not reached them yet. The org's
campaigns that could start (draft, scheduled, recurring, sending, paused) are locked until the erasure commits, so
none can start between the check and the erasure and message them with data it read before.

Queries: a fixed number whatever the number of messages, exchanges and clicks (bulk UPDATE and DELETE), plus one per
campaign that is being prepared at that moment.
"""

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, Exists, Min, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from campaigns.base.phone_numbers import MobileError, normalise_mobile
from campaigns.customers.campaign_audience import campaign_audience
from campaigns.models import Campaign, Channel, Coupon, Customer, CustomerList, Transaction, Unsubscribe, User
from delivery.models import ERASED_RECIPIENT, GatewayExchange, Message
from linktrack.counts.devices import DEVICE_WORDS
from linktrack.models import Click

# What a message to an erased customer keeps as its recipient.

# The campaigns that may still start or go on sending to the org's customers: locked during an erasure.
MAY_SEND = Campaign.UNFINISHED_STATUSES
SENDING = (Message.Status.QUEUED, Message.Status.SUBMITTING)


@dataclass(frozen=True)
class ErasureResult:
    customer: Customer
    already_erased: bool = False
    messages: int = 0  # messages whose recipient and text were erased (kept in the reports)
    gateway_exchanges: int = 0  # gateway log entries deleted
    clicks: int = 0  # clicks whose address and user agent were erased (still counted)
    coupons: int = 0
    lists: int = 0  # lists the customer was taken off
    transactions: int = 0  # purchases no longer linked to them (still counted for their campaigns)
    unsubscribes_kept: tuple[str, ...] = field(default=())  # channels whose unsubscribe survives as a hash

    @property
    def in_words(self) -> str:
        if self.already_erased:
            return "The personal data of this customer was already erased; nothing changed."
        kept = (
            f" Their unsubscribe from {' and '.join(_channel_name(c) for c in self.unsubscribes_kept)} still applies "
            "if they are imported again."
            if self.unsubscribes_kept
            else ""
        )
        return (
            f"Personal data erased: name, contacts and attributes, {_count(self.coupons, 'coupon')}, their place "
            f"on {_count(self.lists, 'list')}, the recipient and text of {_count(self.messages, 'message')} and "
            f"{_count(self.gateway_exchanges, 'gateway log entry', 'gateway log entries')}. Every campaign's figures "
            f"are unchanged ({_count(self.clicks, 'click')} on their links still counted"
            f"{self._transactions_in_words}).{kept}"
        )

    @property
    def _transactions_in_words(self) -> str:
        if not self.transactions:
            return ""
        return f"; {_count(self.transactions, 'purchase')} no longer linked to them, still counted for their campaigns"


@dataclass(frozen=True)
class ErasureCounts:
    """What an erasure of a customer would remove and keep: the confirmation page shows it."""

    messages: int
    campaigns: int
    clicks: int  # clicks by a person on their messages (counted in the reports, kept)
    gateway_exchanges: int
    coupons: int
    lists: int
    unsubscribed_from: tuple[str, ...]  # channel names


def customer_erasure_counts(*, customer: Customer) -> ErasureCounts:
    messages = Message.objects.filter(customer_id=customer.pk)
    return ErasureCounts(
        messages=messages.count(),
        campaigns=messages.values("campaign_id").distinct().count(),
        clicks=Click.objects.filter(message__customer_id=customer.pk, is_bot=False).count(),
        gateway_exchanges=GatewayExchange.objects.filter(message__customer_id=customer.pk).count(),
        coupons=Coupon.objects.filter(customer_id=customer.pk).count(),
        lists=CustomerList.customers.through.objects.filter(customer_id=customer.pk).count(),
        unsubscribed_from=tuple(_channel_name(channel) for channel in _unsubscribe_hashes(customer)),
    )


def customer_erasure_refusal(*, customer: Customer) -> str:
    """Why the customer's personal data cannot be erased now, in words; "" when it can."""
    return _refusal(customer, _preparing(customer.org_id))


@transaction.atomic
def customer_erase(*, customer: Customer, user: User | None) -> ErasureResult:
    """Erase the customer's personal data (see the module's description); ValidationError while a campaign is still
    sending to them. Erasing an erased customer changes nothing and says so."""
    # Campaigns first, then the customer: the order a dispatcher takes them in (its campaign, then each message's
    # customer), so the two never wait for each other.
    may_send = list(
        Campaign.objects.select_for_update()
        .filter(org_id=customer.org_id, status__in=MAY_SEND)
        .order_by("pk")  # one order for everyone locking them: two erasures never wait for each other
        .values_list("pk", "status")
    )
    # NO KEY: a message being written for the customer meanwhile only needs their key, it does not wait for this.
    customer = Customer.objects.select_for_update(no_key=True).get(pk=customer.pk)
    if customer.is_erased:
        return ErasureResult(customer=customer, already_erased=True)
    refusal = _refusal(customer, [pk for pk, status in may_send if status == Campaign.Status.DISPATCHING])
    if refusal:
        raise ValidationError(refusal)

    kept = _keep_unsubscribes(customer)
    messages = Message.objects.filter(customer_id=customer.pk).update(
        recipient=ERASED_RECIPIENT, body="", subject="", html_body=""
    )
    exchanges, _ = _exchanges_of(customer).delete()
    clicks = Click.objects.filter(message__customer_id=customer.pk).update(ip_hash="", user_agent=_device_kind())
    coupons, _ = Coupon.objects.filter(customer_id=customer.pk).delete()
    lists, _ = CustomerList.customers.through.objects.filter(customer_id=customer.pk).delete()
    transactions = _unlink_transactions(customer)

    customer.name = customer.mobile = customer.email = customer.external_id = ""
    customer.attributes = {}
    customer.sms_subscribed = customer.email_subscribed = False
    customer.erased_at = timezone.now()
    customer.erased_by = user
    customer.save(
        update_fields=[
            "name",
            "mobile",
            "email",
            "external_id",
            "attributes",
            "sms_subscribed",
            "email_subscribed",
            "erased_at",
            "erased_by",
            "updated_at",
        ]
    )
    return ErasureResult(
        customer=customer,
        messages=messages,
        gateway_exchanges=exchanges,
        clicks=clicks,
        coupons=coupons,
        lists=lists,
        transactions=transactions,
        unsubscribes_kept=kept,
    )


def _unlink_transactions(customer: Customer) -> int:
    """Take the customer's purchases off them and drop what named them; their campaigns keep counting them (the
    sales counters count buyers by `buyer_key`, which becomes a number that names no one: minus the lowest id of
    these purchases) and they are never attributed again."""
    purchases = Transaction.objects.filter(customer_id=customer.pk)
    first = purchases.aggregate(first=Min("pk"))["first"]
    if first is None:
        return 0
    return purchases.update(customer=None, customer_external_id="", mobile="", email="", buyer_key=-first)


@dataclass(frozen=True)
class ContactMatch:
    """Who an erasure request naming a number or an address is about."""

    contact: str  # the number in E.164 or the address in lower case
    customers: list[Customer]  # the org's customers with it, not erased
    erased_before: bool  # an erased customer of the org had unsubscribed with it (its hash is kept)


def customers_with_contact(*, org_id: int, text: str) -> ContactMatch:
    """The org's customers a request line names: an email address, else a mobile number as people write it
    (normalised like the customer import). Raises ValueError saying why a line is neither.

    A customer erased while subscribed keeps nothing that finds them again by number or address."""
    text = text.strip()
    if "@" in text:
        contact, channel = text.lower(), Channel.EMAIL
        try:
            validate_email(contact)
        except ValidationError:
            raise ValueError("is not a valid email address") from None
        customers = Customer.objects.filter(org_id=org_id, email=contact)
    else:
        contact, channel = normalise_mobile(text), Channel.SMS  # MobileError is a ValueError
        customers = Customer.objects.filter(org_id=org_id, mobile=contact)
    contact_hash = Unsubscribe.hash_contact(org_id=org_id, channel=channel, contact=contact)
    return ContactMatch(
        contact=contact,
        customers=list(customers.filter(erased_at__isnull=True).order_by("pk")),
        erased_before=Unsubscribe.objects.filter(
            customer__org_id=org_id, customer__erased_at__isnull=False, contact_hash=contact_hash
        ).exists(),
    )


# --- Refusal: a campaign still sending to them ------------------------------------------------------------------


def _preparing(org_id: int) -> list[int]:
    return list(Campaign.objects.filter(org_id=org_id, status=Campaign.Status.DISPATCHING).values_list("pk", flat=True))


def _refusal(customer: Customer, preparing_ids: list[int]) -> str:
    if customer.is_erased:
        return ""
    waiting = (
        Message.objects.filter(customer_id=customer.pk, status__in=SENDING)
        .values_list("campaign__name", flat=True)
        .order_by("campaign_id")
        .distinct()
    )
    names = list(waiting)
    if not names and preparing_ids:
        names = [campaign.name for campaign in _preparing_for(customer, preparing_ids)]
    if not names:
        return ""
    quoted = ", ".join(f"“{name}”" for name in names)
    return (
        f"The personal data of this customer cannot be erased while {quoted} "
        f"{'is' if len(names) == 1 else 'are'} still sending to them: erasing now could not stop a message already "
        "on its way. Erase it once sending has finished, or pause or cancel the campaign first."
    )


def _preparing_for(customer: Customer, preparing_ids: list[int]) -> list[Campaign]:
    """The campaigns being prepared whose audience includes the customer and that have not messaged them yet."""
    found = []
    campaigns = Campaign.objects.filter(pk__in=preparing_ids).select_related("org", "audience_segment", "resend_of")
    for campaign in campaigns.order_by("pk"):
        try:
            audience = campaign_audience(campaign)
        except ValidationError:
            continue  # a segment that cannot be evaluated messages nobody
        messaged = Message.objects.filter(campaign_id=campaign.pk, customer_id=OuterRef("pk"))
        if audience.filter(pk=customer.pk).exclude(Exists(messaged)).exists():
            found.append(campaign)
    return found


# --- What is erased -----------------------------------------------------------------------------------------------


def _unsubscribe_hashes(customer: Customer) -> dict[str, str]:
    """{channel: hash of the number or address} for each channel the customer is unsubscribed from with one."""
    unsubscribed = (
        (Channel.SMS, customer.sms_subscribed, _normalised_mobile(customer.mobile)),
        (Channel.EMAIL, customer.email_subscribed, customer.email),
    )
    return {
        channel: Unsubscribe.hash_contact(org_id=customer.org_id, channel=channel, contact=contact)
        for channel, subscribed, contact in unsubscribed
        if not subscribed and contact
    }


def _keep_unsubscribes(customer: Customer) -> tuple[str, ...]:
    """Clear the notes of the customer's unsubscribe records and keep, for each channel they are unsubscribed from,
    the hash of the number or address that unsubscribed. Returns those channels."""
    hashes = _unsubscribe_hashes(customer)
    records = Unsubscribe.objects.filter(customer_id=customer.pk)
    recorded = set(records.values_list("channel", flat=True))
    if recorded:
        records.update(
            note="",
            contact_hash=Case(
                *(When(channel=channel, then=Value(value)) for channel, value in hashes.items()), default=Value("")
            ),
        )
    # Unsubscribed without a record (set before records were kept, or by hand in the admin): one records it now.
    Unsubscribe.objects.bulk_create(
        [
            Unsubscribe(customer=customer, channel=channel, source=Unsubscribe.Source.MANUAL, contact_hash=value)
            for channel, value in hashes.items()
            if channel not in recorded
        ]
    )
    return tuple(hashes)


def _exchanges_of(customer: Customer) -> QuerySet[GatewayExchange]:
    """The gateway log of the customer's messages, and the org's logged STOP replies and unmatched receipts (no
    message) that contain their number or address."""
    about_them = Q(message__customer_id=customer.pk)
    needles = [text for text in (_national_number(customer.mobile), customer.email) if text]
    if needles:
        mentions = Q()
        for needle in needles:
            mentions |= Q(request__icontains=needle) | Q(response__icontains=needle)
        about_them |= Q(message__isnull=True, gateway__org_id=customer.org_id) & mentions
    return GatewayExchange.objects.filter(about_them)


def _normalised_mobile(mobile: str) -> str:
    """As the customer import writes it (E.164), so a number imported again hashes the same."""
    try:
        return normalise_mobile(mobile) if mobile else ""
    except MobileError:
        return mobile


def _national_number(mobile: str) -> str:
    """9812345678 for +919812345678: gateways write a sender as +91…, 91… or the national number alone."""
    if not mobile:
        return ""
    try:
        return str(phonenumbers.parse(mobile, None).national_number)
    except phonenumbers.NumberParseException:
        return mobile.lstrip("+")


def _device_kind() -> Case:
    """A click's user agent becomes the first word that tells its kind of device, so the campaign page still counts
    it on that device (linktrack.counts.devices.device_of reads the same words in the same order); any other agent is
    emptied."""
    return Case(
        *(
            When(reduce(or_, (Q(user_agent__icontains=word) for word in words)), then=Value(f"erased ({words[0]})"))
            for _device, words in DEVICE_WORDS
        ),
        default=Value(""),
    )


def _channel_name(channel: str) -> str:
    return Channel(channel).label


def _count(number: int, singular: str, plural: str = "") -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"
