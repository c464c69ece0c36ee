"""One message as it went out and what became of it: its text exactly as sent, its short links with the clicks on
them, the sender and DLT ids, its status history as far as it is stored, and its gateway log. Read by the message
page; a handful of queries, each bounded by the one message (its clicks are few: Click rows filtered by message)."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q
from django.db.models.query import QuerySet

from campaigns.base.access import orgs_for_user
from campaigns.models import User
from delivery import reasons
from delivery.models import ERASED_RECIPIENT, GatewayExchange, Message
from delivery.reports.selectors import masked_recipient, reason_of
from linktrack.models import Click, ShortLink
from linktrack.selectors import code_decode

# A short link as a message carries it: s.cplry.com/7383936D89, with or without https://, or /s/<code> on the app.
_SHORT_URL = re.compile(r"(?:https?://)?[\w.-]+(?::\d+)?(?:/[\w.-]+)*/([0-9A-Za-z]{4,32})(?![\w/])")


def messages_for_user(user: User) -> QuerySet[Message]:
    """The messages a user may open: those of their orgs' campaigns (support staff: every org), tests included."""
    return Message.with_proofs.filter(campaign__org__in=orgs_for_user(user))


@dataclass(frozen=True)
class MessageLink:
    short_url: str  # as the message carries it
    destination: str
    clicks: int  # by a person
    bot_clicks: int  # link previews and crawlers, never counted
    last_click_at: datetime | None


@dataclass(frozen=True)
class StatusStep:
    at: datetime
    words: str


@dataclass(frozen=True)
class MessagePage:
    message: Message
    recipient: str
    reason: reasons.Reason | None
    links: list[MessageLink]
    history: list[StatusStep]
    exchanges: list[GatewayExchange]


def message_page(*, message: Message, with_gateway_log: bool) -> MessagePage:
    """`with_gateway_log`: support staff only read what passed between linktrack and a gateway."""
    reason = reasons.reason_for(reason_of(message)) if message.status in _FAILED else None
    return MessagePage(
        message=message,
        recipient=masked_recipient(message.recipient) if message.recipient == ERASED_RECIPIENT else message.recipient,
        reason=reason,
        links=message_links(message=message),
        history=_history(message, reason),
        exchanges=list(message.exchanges.order_by("created_at", "pk")) if with_gateway_log else [],
    )


_FAILED = {Message.Status.NOT_SENT, Message.Status.NOT_DELIVERED, Message.Status.UNKNOWN}


def message_links(*, message: Message) -> list[MessageLink]:
    """The short links in the message's text (each names this message), and the clicks on each: this message's
    own Click rows, a few, read by their message index."""
    found: dict[int, str] = {}  # short link id -> the short URL as the message carries it
    for text in (message.body, message.html_body):
        for match in _SHORT_URL.finditer(text or ""):
            decoded = code_decode(match.group(1))
            if decoded and decoded[1] == message.pk:
                found.setdefault(decoded[0], match.group(0))
    clicks = {
        row["short_link_id"]: row
        for row in Click.objects.filter(message_id=message.pk)
        .values("short_link_id")
        .annotate(
            people=Count("pk", filter=Q(is_bot=False)), bots=Count("pk", filter=Q(is_bot=True)), last=Max("clicked_at")
        )
        .order_by()
    }
    # A link clicked but no longer in the text (the text of an erased customer's message is removed) is listed too.
    ids = sorted(set(found) | set(clicks))
    destinations = dict(
        ShortLink.objects.filter(pk__in=ids, campaign_id=message.campaign_id).values_list("pk", "destination")
    )
    return [
        MessageLink(
            short_url=found.get(pk, ""),
            destination=destinations[pk],
            clicks=clicks.get(pk, {}).get("people", 0),
            bot_clicks=clicks.get(pk, {}).get("bots", 0),
            last_click_at=clicks.get(pk, {}).get("last"),
        )
        for pk in ids
        if pk in destinations
    ]


def _history(message: Message, reason: reasons.Reason | None) -> list[StatusStep]:
    """What is stored of the message's way: prepared, handed to the gateway, its end (with the reason in words)."""
    steps = [StatusStep(message.created_at, "Prepared (checked and written, waiting to be handed to the gateway)")]
    if message.sent_at:
        accepted = (
            f"Accepted by the gateway (id {message.gateway_message_id})"
            if message.gateway_message_id
            else "Handed to the gateway"
        )
        steps.append(StatusStep(message.sent_at, accepted))
    if message.finished_at and message.is_final:
        words = message.get_status_display()
        if reason is not None:
            words += f": {reason.title}. {reason.explanation}"
        if message.gateway_error:
            words += f" (gateway code {message.gateway_error})"
        steps.append(StatusStep(message.finished_at, words))
    return sorted(steps, key=lambda step: step.at)
