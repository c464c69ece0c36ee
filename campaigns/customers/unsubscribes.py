"""Unsubscribes: a customer leaves a channel (by a STOP reply, an email's link, a manager) or comes back; each change
is recorded once with who and how."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.models import Channel, Customer, Unsubscribe, User

logger = logging.getLogger(__name__)


def _check_channel(channel: str) -> str:
    if channel not in Channel.values:
        raise ValidationError(f"“{channel}” is not a channel; use one of {', '.join(Channel.values)}.")
    return channel


def _with_who(note: str, user: User | None) -> str:
    who = f"by {user.email}" if user is not None else ""
    return " — ".join(part for part in (who, note.strip()) if part)[:200]


@transaction.atomic
def customer_unsubscribe(
    *, customer: Customer, channel: str, source: str, note: str = "", user: User | None = None
) -> bool:
    """Unsubscribe a customer from a channel; returns False when they already were (nothing recorded twice).

    The Unsubscribe row records how (source), when (created_at) and, for a manual action, who (in its note).
    """
    field = f"{_check_channel(channel)}_subscribed"
    changed = Customer.objects.filter(pk=customer.pk, **{field: True}).update(**{field: False})
    if changed:
        setattr(customer, field, False)
        Unsubscribe.objects.create(customer=customer, channel=channel, source=source, note=_with_who(note, user))
    return bool(changed)


@transaction.atomic
def customer_resubscribe(*, customer: Customer, channel: str, user: User | None = None) -> bool:
    """Subscribe a customer to a channel again (their unsubscribe history stays); False when already subscribed."""
    field = f"{_check_channel(channel)}_subscribed"
    changed = Customer.objects.filter(pk=customer.pk, **{field: False}).update(**{field: True})
    if changed:
        setattr(customer, field, True)
        logger.info("customer %s re-subscribed to %s %s", customer.pk, channel, _with_who("", user))
    return bool(changed)
