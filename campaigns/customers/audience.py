"""Who a campaign reaches: its list or segment (segments in campaigns.customers.segments), the lists an org keeps,
which campaigns still need a list or segment, the NDNC register's numbers. Reads and writes customers only."""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet

from campaigns.customers.ndnc import is_blocked
from campaigns.customers.segments import segment_conditions_clean, segment_filters
from campaigns.models import Campaign, Customer, CustomerList, NdncEntry, Org, Segment

logger = logging.getLogger(__name__)


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
        customers = customers.filter(*segment_filters(conditions, org=campaign.org, moment=moment))
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
