"""Who a campaign reaches, and who asked not to be reached. Reads and writes customers only."""

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from campaigns.customers.ndnc import is_blocked
from campaigns.models import Campaign, Channel, Customer, CustomerList, NdncEntry, Org, Segment, Unsubscribe, User
from delivery.models import Message
from linktrack.models import Click

logger = logging.getLogger(__name__)

SEGMENT_OPS = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "contains": "contains",
}
SEGMENT_VALUE_MAX_LENGTH = 1000
# Attribute names as the customer import writes them ("city", "loyalty_tier"); "__" would be read as a lookup path.
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


# --- Segments ----------------------------------------------------------------------------------------------------
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
# Not delivered because of the sender or the register rather than the number: skipped by "undelivered".
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


def _failures_to(customer: OuterRef, channel: str) -> QuerySet[Message]:
    """The customer's messages that failed because of their number (or address), not the sender or the register."""
    return (
        _messages_to(customer, channel)
        .filter(status=Message.Status.NOT_DELIVERED)
        .exclude(reason_code__in=NOT_THE_RECIPIENTS_FAULT)
    )


# Older than any message: what an absent "latest delivery" or "K-th latest failure" compares as.
_NEVER = datetime(2000, 1, 1, tzinfo=UTC)


def _behaviour_q(condition: dict, *, org: Org, moment: datetime) -> Q:
    channel = condition["channel"]
    if condition["behaviour"] == UNDELIVERED:
        # The last K outcomes all failed when the K-th latest failure is newer than the latest delivery (messages
        # whose outcome says nothing about the number lie in between and are skipped). Two index lookups per
        # customer on (customer, created_at); a failure and a delivery at the same instant count as delivered.
        last = condition["messages"]
        failures = _failures_to(OuterRef("pk"), channel).order_by("-created_at", "-pk").values("created_at")
        deliveries = _messages_to(OuterRef("pk"), channel).filter(status=Message.Status.DELIVERED)
        kth_latest_failure = Coalesce(Subquery(failures[last - 1 : last]), Value(_NEVER))
        latest_delivery = Coalesce(Subquery(deliveries.order_by("-created_at").values("created_at")[:1]), Value(_NEVER))
        matched = Q(GreaterThan(kth_latest_failure, latest_delivery))
    else:
        since = behaviour_since(org=org, days=condition["days"], moment=moment)
        messages = _messages_to(OuterRef("pk"), channel)
        if condition["behaviour"] == CLICKED:
            # A click on a link of any message to them, however old the message: a person, never a link preview.
            human_clicks = Click.objects.filter(message=OuterRef("pk"), is_bot=False, clicked_at__gte=since)
            matched = Q(Exists(messages.filter(Exists(human_clicks))))
        else:
            matched = Q(Exists(messages.filter(created_at__gte=since).exclude(status=Message.Status.NOT_SENT)))
    return ~matched if condition["negate"] else matched


def _segment_filters(conditions: list[dict], *, org: Org, moment: datetime | None = None) -> list[Q]:
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
    return customers.filter(*_segment_filters(segment_conditions_clean(conditions), org=org, moment=moment))


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


# Campaigns in these states still need their list or segment: it is read when they (or their next run) send.
# A draft counts too: without its audience it would go to every customer of the org.
AUDIENCE_IN_USE = Campaign.UNFINISHED_STATUSES


def audience_campaigns(*, customer_list: CustomerList | None = None, segment: Segment | None = None) -> dict:
    """{"in_use": [...], "finished": count} for the campaigns targeting a list or a segment.

    "in_use" are the campaigns that still read it (drafts, scheduled, recurring, sending, paused), oldest first;
    "finished" counts those already handed to the gateway or cancelled, whose reports stay when it is deleted.
    """
    campaigns = (
        Campaign.objects.filter(audience_list=customer_list)
        if customer_list is not None
        else Campaign.objects.filter(audience_segment=segment)
    )
    return {
        "in_use": list(campaigns.filter(status__in=AUDIENCE_IN_USE).order_by("created_at", "pk")),
        "finished": campaigns.exclude(status__in=AUDIENCE_IN_USE).count(),
    }


def _refuse_when_in_use(*, what: str, in_use: list[Campaign]) -> None:
    if in_use:
        names = ", ".join(f"“{campaign.name}” ({campaign.get_status_display().lower()})" for campaign in in_use)
        raise ValidationError(
            f"{what} cannot be deleted: {names} still use{'s' if len(in_use) == 1 else ''} it. "
            "Cancel them or wait until they finish (a draft needs its audience until it is sent)."
        )


@transaction.atomic
def segment_delete(*, segment: Segment) -> int:
    """Delete a segment no campaign still needs; returns how many finished campaigns targeted it.

    Finished campaigns keep their messages and reports; they no longer point at the segment. A segment used by a
    draft, scheduled, recurring, sending or paused campaign is refused (ValidationError naming the campaigns).
    """
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    _refuse_when_in_use(what=f"Segment “{segment.name}”", in_use=audience_campaigns(segment=segment)["in_use"])
    finished = _let_go(Campaign.objects.filter(audience_segment=segment), audience_segment=None)
    segment.delete()
    return finished


def _let_go(campaigns: QuerySet[Campaign], **audience) -> int:
    """Detach finished campaigns from a list or segment about to be deleted; each keeps its audience in words under
    the names it has now (a rename since the campaign was set up included). Returns how many there were."""
    campaigns = list(campaigns.select_related("audience_list", "audience_segment"))
    for campaign in campaigns:
        campaign.audience_description = campaign.audience_in_words
        for field, value in audience.items():
            setattr(campaign, field, value)
    Campaign.objects.bulk_update(campaigns, ["audience_description", *audience])
    return len(campaigns)


def _list_name(*, org: Org, name: str, customer_list: CustomerList | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the list a name."})
    max_length = CustomerList._meta.get_field("name").max_length
    if len(name) > max_length:
        raise ValidationError({"name": f"A list name has at most {max_length} characters."})
    taken = CustomerList.objects.filter(org=org, name=name).exclude(pk=customer_list.pk if customer_list else None)
    if taken.exists():
        raise ValidationError({"name": f"There is already a list called “{name}”; choose another name."})
    return name


@transaction.atomic
def customer_list_create(*, org: Org, name: str) -> CustomerList:
    """An empty list, to fill from the customer pages or an import."""
    customer_list = CustomerList(org=org, name=_list_name(org=org, name=name))
    customer_list.full_clean()
    customer_list.save()
    return customer_list


@transaction.atomic
def customer_list_rename(*, customer_list: CustomerList, name: str) -> CustomerList:
    customer_list.name = _list_name(org=customer_list.org, name=name, customer_list=customer_list)
    customer_list.full_clean()
    customer_list.save(update_fields=["name", "updated_at"])
    return customer_list


@transaction.atomic
def customer_list_delete(*, customer_list: CustomerList) -> int:
    """Delete a list no campaign still needs (its customers stay); returns how many finished campaigns targeted it.

    Same rules as segment_delete: refused while a draft, scheduled, recurring, sending or paused campaign uses it.
    """
    customer_list = CustomerList.objects.select_for_update().get(pk=customer_list.pk)
    _refuse_when_in_use(
        what=f"List “{customer_list.name}”", in_use=audience_campaigns(customer_list=customer_list)["in_use"]
    )
    finished = _let_go(Campaign.objects.filter(audience_list=customer_list), audience_list=None)
    customer_list.delete()
    return finished


def customer_list_remove(*, customer_list: CustomerList, customer: Customer) -> bool:
    """Take a customer off a list (the customer stays); False when they were not on it."""
    through = CustomerList.customers.through
    removed, _ = through.objects.filter(customerlist_id=customer_list.pk, customer_id=customer.pk).delete()
    return bool(removed)


def customer_lists_add(*, customer: Customer, customer_lists: Iterable[CustomerList]) -> list[CustomerList]:
    """Put a customer on lists of their org; returns the lists they were not on before."""
    chosen = list(customer_lists)
    if any(customer_list.org_id != customer.org_id for customer_list in chosen):
        raise ValidationError("A customer can only be put on lists of their own organisation.")
    already = set(customer.lists.filter(pk__in=[c.pk for c in chosen]).values_list("pk", flat=True))
    added = [customer_list for customer_list in chosen if customer_list.pk not in already]
    through = CustomerList.customers.through
    through.objects.bulk_create(
        [through(customerlist_id=customer_list.pk, customer_id=customer.pk) for customer_list in added],
        ignore_conflicts=True,
    )
    return added


def customer_list_add_matching(*, customer_list: CustomerList, customers: QuerySet[Customer]) -> int:
    """Add every customer of `customers` that belongs to the list's org and is not on it yet; returns how many.

    One INSERT ... SELECT, however many customers match, so a search of a million customers is added at once.
    """
    # An erased customer is on no list: nothing is left of them to target.
    chosen = customers.filter(org_id=customer_list.org_id, erased_at__isnull=True).order_by().values(chosen_id=F("pk"))
    select_sql, params = chosen.query.sql_with_params()
    through = CustomerList.customers.through
    table = connection.ops.quote_name(through._meta.db_table)
    # Customers already on the list are skipped by the unique (list, customer) index, not by a NOT IN on the list:
    # PostgreSQL re-ran that subquery for every customer over the rows being inserted (100,000 took minutes).
    # "WHERE true": SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT (PostgreSQL accepts it).
    sql = (
        f"INSERT INTO {table} (customerlist_id, customer_id) "
        f"SELECT %s, chosen.chosen_id FROM ({select_sql}) AS chosen WHERE true ON CONFLICT DO NOTHING"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [customer_list.pk, *params])
        return max(cursor.rowcount, 0)


# --- Audience ----------------------------------------------------------------------------------------------------


def audience_customers(*, campaign: Campaign, moment: datetime | None = None) -> QuerySet[Customer]:
    """A campaign's target: its list, its segment, or every customer of its org; never an erased customer (left out
    here, they are neither messaged nor counted as not sent).

    A segment whose stored conditions cannot be evaluated raises ValidationError saying which and why. A segment's
    behaviour conditions ("clicked in the last 30 days") are read as of `moment` (default: now).
    """
    customers = Customer.objects.filter(org_id=campaign.org_id, erased_at__isnull=True)
    if campaign.audience_list_id:
        customers = customers.filter(lists=campaign.audience_list_id)
    if campaign.audience_segment_id:
        segment = campaign.audience_segment
        try:
            conditions = segment_conditions_clean(segment.conditions)
        except ValidationError as error:
            raise ValidationError(
                [f"Segment “{segment.name}” cannot be used: {problem}" for problem in error.messages]
            ) from None
        # Behaviour is read now: each run of a recurring campaign, and a resumed one, sees the latest clicks and
        # outcomes.
        customers = customers.filter(*_segment_filters(conditions, org=campaign.org, moment=moment))
    return customers


def audience_choices(*, org: Org) -> list[tuple[str, str]]:
    """Choices for a campaign form's audience field: every customer, each list, each segment of the org.

    Values are "all", "list:<id>" and "segment:<id>"; turn the chosen value into the campaign's fields with
    audience_from_choice().
    """
    choices = [("all", f"All customers of {org.name}")]
    choices += [
        (f"list:{customer_list.pk}", f"List: {customer_list.name}")
        for customer_list in CustomerList.objects.filter(org=org).order_by("name")
    ]
    choices += [(f"segment:{segment.pk}", f"Segment: {segment.name}") for segment in org.segments.order_by("name")]
    return choices


def audience_from_choice(*, org: Org, choice: str) -> dict:
    """{"audience_list": ..., "audience_segment": ...} for a value of audience_choices(); ValidationError if unknown.

    Another org's list or segment is refused like one that does not exist.
    """
    kind, _, pk = (choice or "all").partition(":")
    if kind == "all" and not pk:
        return {"audience_list": None, "audience_segment": None}
    if pk.isdigit():
        if kind == "list":
            found = CustomerList.objects.filter(org=org, pk=int(pk)).first()
            if found:
                return {"audience_list": found, "audience_segment": None}
        if kind == "segment":
            found = Segment.objects.filter(org=org, pk=int(pk)).first()
            if found:
                return {"audience_list": None, "audience_segment": found}
    raise ValidationError("Choose who receives the campaign: all customers, one of your lists or one of your segments.")


# --- NDNC --------------------------------------------------------------------------------------------------------


def ndnc_blocked_mobiles(*, org: Org, mobiles: Iterable[str], category: int) -> set[str]:
    """The numbers among `mobiles` on the org's NDNC register that refuse promotional messages of `category`.

    0 among a number's categories blocks every category; an empty list counts as fully blocked (see
    campaigns.customers.ndnc.is_blocked); otherwise only the listed categories are blocked.
    """
    return {
        mobile
        for mobile, categories in NdncEntry.objects.filter(org=org, mobile__in=list(mobiles)).values_list(
            "mobile", "blocked_categories"
        )
        if is_blocked(blocked_categories=categories or [], category=category)
    }


# --- Unsubscribes ------------------------------------------------------------------------------------------------


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
