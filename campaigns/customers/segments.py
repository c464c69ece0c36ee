"""Segments: customers chosen by their attributes and their behaviour (clicked, were sent, could not be reached),
evaluated as one query however many customers match."""

import re
from datetime import datetime, time, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from campaigns.models import Channel, Customer, Org, Segment
from delivery.models import FailureStreak, Message
from linktrack.models import ClickerDay

SEGMENT_OPS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "contains": "contains",
}


SEGMENT_VALUE_MAX_LENGTH = 1000


# Attribute names as the customer import writes them ("city", "loyalty_tier"); "__" would be read as a lookup path.
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


#
# A segment is a list of conditions, all of which must hold. Two kinds:
#   attributes: {"attribute": "city", "op": "eq" | "ne" | "in" | "contains", "value": ...}
#   behaviour:  {"behaviour": "clicked" | "sent", "days": N, "channel": "any" | "sms" | "email", "negate": bool}
#               {"behaviour": "undelivered", "messages": K, "channel": ..., "negate": bool}
#
# "clicked": a person (never a link preview or other bot) clicked a link of a message sent to the customer in the
# last N days. "sent": a message was sent to them (or is being sent: everything but "not sent", as the frequency cap
# counts) in the last N days. The last N days are calendar days in the org's time zone, today included: on
# 15 March, "the last 7 days" start at midnight on 9 March, so a segment selects the same customers all day long.
#
# "undelivered": the customer's last K messages with an outcome that says something about their number or address
# all failed to deliver — the number no longer works, so an org suppresses it (negate: true) to save credits and
# its DLT reputation. Only delivered and not delivered messages count. Messages still on their way have no outcome
# yet; "unknown" means the operator reports nothing (promotional and numeric senders), which says nothing about the
# number; an NDNC reject means the number is on the Do-Not-Disturb register, not that it is dead (a transactional
# message reaches it); a DLT error is the sender's registration failing, for every recipient alike. Those
# messages are skipped, neither a failure nor a delivery. A customer with fewer than K such messages is not
# "undelivered".
#
# Tests sent from the preview (proofs) never count: every subquery goes through Message.objects. Each behaviour
# condition is a subquery of the customer query (EXISTS or NOT EXISTS; for "undelivered", two lookups on the
# customer's newest messages), so counting a segment is one query however many customers it has.

CLICKED, SENT, UNDELIVERED = "clicked", "sent", "undelivered"

SEGMENT_BEHAVIOURS = {
    CLICKED: "clicked a link in the last N days",
    SENT: "was sent a message in the last N days",
    UNDELIVERED: "the last K messages all failed to deliver",
}


ANY_CHANNEL = "any"


SEGMENT_CHANNELS = {ANY_CHANNEL: "any channel", Channel.SMS: "SMS", Channel.EMAIL: "email"}


BEHAVIOUR_DAYS_MAX = 365


BEHAVIOUR_MESSAGES_MAX = 20


# Not delivered because of the sender or the register rather than the number: skipped by "undelivered". The failure
# streaks' triggers (delivery migration 0008) hold a copy: changing this list needs a migration installing them again.
NOT_THE_RECIPIENTS_FAULT = ("ndnc", "dlt_entity", "dlt_chain", "dlt_sender_id", "dlt_template")


def segment_conditions_clean(conditions: object) -> list[dict]:
    """Check and normalise segment conditions; raises ValidationError naming each bad condition in words.

    An attribute condition is {"attribute": "city", "op": "eq" | "ne" | "in" | "contains", "value": ...}; "in" takes
    a list of values (or one comma-separated text), the others one text. A behaviour condition is described above.
    """
    if not isinstance(conditions, list):
        raise ValidationError("Segment conditions must be a list.")
    if not conditions:
        raise ValidationError("A segment needs at least one condition.")
    cleaned, problems = [], []
    for number, condition in enumerate(conditions, start=1):
        if isinstance(condition, dict) and "behaviour" in condition:
            behaviour = _behaviour_clean(number, condition, problems)
            if behaviour is not None:
                cleaned.append(behaviour)
            continue
        if not isinstance(condition, dict):
            problems.append(f"Condition {number} is not an attribute, a comparison and a value, nor a behaviour.")
            continue
        attribute = str(condition.get("attribute", "")).strip().lower()
        op = condition.get("op")
        value = condition.get("value")
        if not _ATTRIBUTE_NAME.match(attribute):
            problems.append(
                f"Condition {number}: “{attribute}” is not an attribute name (letters, digits and single underscores)."
            )
        if op not in SEGMENT_OPS:
            problems.append(
                f"Condition {number}: “{op}” is not a comparison; use one of "
                + ", ".join(f"{key} ({label})" for key, label in SEGMENT_OPS.items())
                + "."
            )
            continue
        if op == "in":
            values = value.split(",") if isinstance(value, str) else value
            if not isinstance(values, list) or not all(isinstance(v, str | int | float) for v in values):
                problems.append(f"Condition {number}: “is one of” needs a list of values.")
                continue
            values = [str(v).strip() for v in values if str(v).strip()]
            if not values:
                problems.append(f"Condition {number}: “is one of” needs at least one value.")
                continue
            value = values
        else:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                problems.append(f"Condition {number}: the value must be a text.")
                continue
            value = str(value).strip()
            if not value:
                problems.append(f"Condition {number}: the value is empty.")
                continue
        if len(str(value)) > SEGMENT_VALUE_MAX_LENGTH:
            problems.append(f"Condition {number}: the value is longer than {SEGMENT_VALUE_MAX_LENGTH} characters.")
            continue
        cleaned.append({"attribute": attribute, "op": op, "value": value})
    if problems:
        raise ValidationError(problems)
    return cleaned


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _behaviour_clean(number: int, condition: dict, problems: list[str]) -> dict | None:
    behaviour = condition["behaviour"]
    if behaviour not in SEGMENT_BEHAVIOURS:
        problems.append(
            f"Condition {number}: “{behaviour}” is not a behaviour; use one of "
            + ", ".join(f"{key} ({label})" for key, label in SEGMENT_BEHAVIOURS.items())
            + "."
        )
        return None
    before = len(problems)
    channel = condition.get("channel", ANY_CHANNEL)
    if channel not in SEGMENT_CHANNELS:
        problems.append(
            f"Condition {number}: “{channel}” is not a channel; use one of "
            + ", ".join(f"{key} ({label})" for key, label in SEGMENT_CHANNELS.items())
            + "."
        )
    negate = condition.get("negate", False)
    if not isinstance(negate, bool):
        problems.append(f"Condition {number}: “negate” must be true (did not) or false (did).")
    if behaviour == UNDELIVERED:
        key, maximum = "messages", BEHAVIOUR_MESSAGES_MAX
    else:
        key, maximum = "days", BEHAVIOUR_DAYS_MAX
    amount = _whole_number(condition.get(key))
    if amount is None or not 1 <= amount <= maximum:
        problems.append(
            f"Condition {number} ({SEGMENT_BEHAVIOURS[behaviour]}): give a number of {key} from 1 to {maximum}."
        )
    if len(problems) > before:
        return None
    return {"behaviour": behaviour, key: amount, "channel": channel, "negate": negate}


def behaviour_since(*, org: Org, days: int, moment: datetime) -> datetime:
    """The start of the last `days` calendar days in the org's time zone, today included (midnight, org time)."""
    zone = ZoneInfo(org.timezone)
    today = moment.astimezone(zone).date()
    return datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=zone)


def _attribute_q(condition: dict) -> Q:
    key, op, value = f"attributes__{condition['attribute']}", condition["op"], condition["value"]
    if op == "eq":
        return Q(**{f"{key}__iexact": value})
    if op == "ne":
        # A customer without the attribute is "not Pune" too.
        return ~Q(**{f"{key}__iexact": value}) | Q(**{f"{key}__isnull": True})
    if op == "in":
        return reduce(or_, (Q(**{f"{key}__iexact": v}) for v in value))
    return Q(**{f"{key}__icontains": value})


def _messages_to(customer: OuterRef, channel: str) -> QuerySet[Message]:
    # Message.objects: tests sent from the preview are not the customer's messages.
    messages = Message.objects.filter(customer=customer)
    return messages if channel == ANY_CHANNEL else messages.filter(channel=channel)


def _behaviour_q(condition: dict, *, org: Org, moment: datetime) -> Q:
    channel = condition["channel"]
    if condition["behaviour"] == UNDELIVERED:
        # The last K outcomes all failed when K failures are newer than the latest delivery (messages whose outcome
        # says nothing about the number lie in between and are skipped): the failure streak the database keeps with
        # each outcome (delivery.models.FailureStreak), one index lookup per customer.
        streaks = FailureStreak.objects.filter(
            customer=OuterRef("pk"), channel=channel, failures__gte=condition["messages"]
        )
        matched = Q(Exists(streaks))
    else:
        since = behaviour_since(org=org, days=condition["days"], moment=moment)
        messages = _messages_to(OuterRef("pk"), channel)
        if condition["behaviour"] == CLICKED:
            # A click on a link of any message to them, however old the message: a person, never a link preview
            # (the click counters' days each recipient clicked, on the org's clock like `since`).
            clicked = ClickerDay.objects.filter(message_id=OuterRef("pk"), day__gte=since.date())
            matched = Q(Exists(messages.filter(Exists(clicked))))
        else:
            matched = Q(Exists(messages.filter(created_at__gte=since).exclude(status=Message.Status.NOT_SENT)))
    return ~matched if condition["negate"] else matched


def segment_filters(conditions: list[dict], *, org: Org, moment: datetime | None = None) -> list[Q]:
    """One filter per cleaned condition; behaviour reads the last N days up to `moment` (default now)."""
    moment = moment or timezone.now()
    return [
        _behaviour_q(condition, org=org, moment=moment) if "behaviour" in condition else _attribute_q(condition)
        for condition in conditions
    ]


def customers_matching(*, org: Org, conditions: list[dict], moment: datetime | None = None) -> QuerySet[Customer]:
    """The org's customers meeting every condition (erased customers never do); raises ValidationError for
    conditions that make no sense. `moment` (default now) is where behaviour's "last N days" end."""
    customers = Customer.objects.filter(org=org, erased_at__isnull=True)
    return customers.filter(*segment_filters(segment_conditions_clean(conditions), org=org, moment=moment))


@transaction.atomic
def segment_save(*, org: Org, name: str, conditions: list[dict], segment: Segment | None = None) -> Segment:
    """Create (or change) a segment; bad conditions are a ValidationError here, never a crash at dispatch."""
    cleaned = segment_conditions_clean(conditions)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the segment a name."})
    taken = Segment.objects.filter(org=org, name=name).exclude(pk=segment.pk if segment else None)
    if taken.exists():
        raise ValidationError({"name": f"There is already a segment called “{name}”; choose another name."})
    segment = segment or Segment(org=org)
    segment.name = name
    segment.conditions = cleaned
    segment.full_clean()
    segment.save()
    return segment
