"""Support staff find messages across orgs from what a ticket gives them: a mobile number in any spelling, an email
address, the gateway's message id, or a short link the customer received (with or without its domain). Tests sent
from a campaign's preview (to no customer) are found too, by their number or address, id or link.

The text is read every way it can be and each reading is searched; the answer says which readings found what and
why the others did not apply, so "nothing found" is never a bare shrug. A fixed number of queries whatever the
number of orgs or messages: customers by their org-and-mobile index, messages by customer, by gateway id, or by id.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db.models import Q

from campaigns.base.phone_numbers import MobileError, normalise_mobile
from campaigns.models import Customer, Org
from delivery.gateways.smpp_inbound import canonical_id
from delivery.models import Message, PendingReceipt
from delivery.reports.selectors import CustomerMessage, messages_with_outcomes
from linktrack.models import ShortLink
from linktrack.selectors import code_decode

LIMIT = 50
_CODE = re.compile(r"[0-9A-Za-z]{4,32}")


@dataclass
class MessageLookup:
    query: str
    readings: list[str] = field(default_factory=list)  # how the text was read, and what each reading found
    # Newest first, at most LIMIT, each with the reading that found it.
    results: list[tuple[CustomerMessage, str]] = field(default_factory=list)
    waiting_receipts: list[PendingReceipt] = field(default_factory=list)  # receipts for an id no message has yet

    @property
    def truncated(self) -> bool:
        return len(self.results) == LIMIT


def message_lookup(query: str, *, org: Org | None = None) -> MessageLookup:
    lookup = MessageLookup(query=query.strip())
    text = lookup.query
    found: dict[int, str] = {}  # message id -> the reading that found it
    for reading, condition in _readings(text, org, lookup.readings):
        messages = Message.with_proofs.filter(condition)
        if org is not None:
            messages = messages.filter(campaign__org=org)
        ids = list(messages.order_by("-created_at", "-pk").values_list("pk", flat=True)[:LIMIT])
        lookup.readings.append(f"{reading}: {_count(len(ids))}{' (the latest shown)' if len(ids) == LIMIT else ''}.")
        for pk in ids:
            found.setdefault(pk, reading)
    if found:
        newest = Message.with_proofs.filter(pk__in=found).select_related("campaign__org").order_by("-created_at", "-pk")
        lookup.results = [(item, found[item.message.pk]) for item in messages_with_outcomes(list(newest[:LIMIT]))]
    receipts = PendingReceipt.objects.filter(gateway_message_id__in=_gateway_ids(text))
    if org is not None:
        receipts = receipts.filter(org=org)
    lookup.waiting_receipts = list(receipts.select_related("org").order_by("received_at", "pk")[:LIMIT])
    return lookup


def _count(number: int) -> str:
    return "no message" if number == 0 else "1 message" if number == 1 else f"{number} messages"


def _readings(text: str, org: Org | None, notes: list[str]):
    """(what the text was read as, a condition on Message) for each way it can be read; `notes` gets the others."""
    if not text:
        return
    if not any(char.isspace() or char == "/" for char in text):
        yield f"gateway message id {text}", Q(gateway_message_id__in=_gateway_ids(text))
    if "@" in text:
        customers = Customer.objects.filter(email__iexact=text)
        if org is not None:
            customers = customers.filter(org=org)
        yield f"customer with email address {text.lower()}", Q(customer__in=customers)
        yield f"tests from a preview to {text.lower()}", _tests_to(text.lower())
    elif any(char.isdigit() for char in text) and not any(char.isalpha() for char in text):
        try:
            mobile = normalise_mobile(text)
        except MobileError as error:
            notes.append(f"Not a mobile number: “{text}” {error}.")
        else:
            # Customers are indexed by org, then mobile: naming the orgs lets PostgreSQL look the number up once per
            # org rather than read every customer.
            customers = Customer.objects.filter(mobile=mobile, org__in=[org] if org else Org.objects.all())
            yield f"customer with mobile number {mobile}", Q(customer__in=customers)
            yield f"tests from a preview to {mobile}", _tests_to(mobile)
    code = _short_code(text)
    decoded = code_decode(code) if code else None
    if decoded is None:
        if "/" in text:
            notes.append(f"Not a short link of ours: “{text}” (mistyped, cut short, or made elsewhere).")
        return
    short_link_id, message_id = decoded
    link = ShortLink.objects.filter(pk=short_link_id).values("campaign_id", "destination").first()
    if link is None:
        notes.append(f"Short link {code}: its link no longer exists (the campaign was deleted).")
        return
    if not message_id:
        notes.append(f"Short link {code}: campaign {link['campaign_id']}'s link to {link['destination']}, "
                     "not tied to one recipient.")  # fmt: skip
        return
    yield f"short link {code} (to {link['destination']})", Q(pk=message_id, campaign_id=link["campaign_id"])


def _tests_to(recipient: str) -> Q:
    """Tests sent from a preview to `recipient`: found among the few messages that are tests (an index of their own)."""
    return Q(proof__isnull=False, recipient=recipient)


def _gateway_ids(text: str) -> list[str]:
    """The id as typed and as receipts store SMPP ids (upper case, no leading zeros)."""
    return sorted({text, canonical_id(text)}) if text else []


def _short_code(text: str) -> str | None:
    """The code of a short URL as an SMS shows it (s.cplry.com/7383936D89, with or without https://) or alone."""
    if "/" in text:
        path = urlsplit(text if "://" in text else f"//{text}").path
        text = path.rstrip("/").rsplit("/", 1)[-1]
    return text if _CODE.fullmatch(text) else None
