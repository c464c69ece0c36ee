"""An org's credits as its campaign managers read them: the balance, what was spent and on what, the top-ups support
staff made, and what the campaigns scheduled for the coming days will need.

What a credit buys
    One credit is one SMS segment: a message of 2 parts costs 2. An email costs 1 credit (dispatch and tests charge
    every email message `segments = 1`, campaigns.sending.renderer.MessageRenderer). Dispatch takes the credits of each
    batch from Org.credits as it prepares it (Campaign.credits_charged) and, once the campaign has handed over
    everything, gives back those of the messages the gateway never took (campaign_settle_credits). A test sent from
    the preview takes its segments the same way (delivery.Proof.credits), given back when the gateway refuses it.

What was spent, and when
    Read from those two records, not from the messages: a campaign's `credits_charged` is what it cost (once
    settled; before that, what it holds, counted as spent until it settles), a proof's `credits` what the test cost.
    So the usage adds up with the balance, and it is a handful of queries over campaigns and proofs whatever the
    number of messages (see credit_usage). A campaign's credits count on the day it started sending, in the org's
    time zone; one that sent across midnight or was held overnight is counted on its first day. A recurring
    campaign's runs are campaigns of their own, added up under the recurring campaign in the list by campaign.

What is coming up
    One-time campaigns scheduled in the next 7 days and the runs of recurring campaigns on their schedule, each
    estimated as the campaign preview estimates it (campaigns.sending.preview.campaign_preview: one credit per SMS segment
    as sent, tracked links at their real length; one per email). The preview reads every recipient when a slot
    takes a customer field (each message has its own length), so an estimate is kept for ESTIMATE_CACHE_SECONDS
    (until the campaign or the org's link settings change), and such a campaign with more than FULL_ESTIMATE_LIMIT
    recipients is estimated from its first ESTIMATE_SAMPLE recipients, the average scaled to the audience.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from croniter import croniter
from django.core.cache import cache
from django.db.models import Case, Count, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate

from campaigns.base import clock
from campaigns.dlt.parsing import TemplateError, parse_template
from campaigns.dlt.rendering import RenderRefused, example_short_url, render_sms, slot_value, slots_use_customer
from campaigns.dlt.sms_length import sms_length
from campaigns.models import Campaign, Channel, CreditTopUp, Customer, Org
from campaigns.sending.preview import CUSTOMER_COLUMNS, attach_coupons, campaign_preview, preview_audience
from delivery.models import Proof

USAGE_DAYS = 30
TOP_CAMPAIGNS = 10
TOP_UPS_LISTED = 50
COMING_UP_DAYS = 7
# Upcoming campaigns estimated on one page; runs of one recurring campaign counted (an every-minute schedule).
COMING_UP_CAMPAIGNS = 20
COMING_UP_RUNS = 1000
# A customer-dependent SMS campaign with more recipients than this is estimated from a sample of its audience.
FULL_ESTIMATE_LIMIT = 5000
ESTIMATE_SAMPLE = 1000
ESTIMATE_CACHE_SECONDS = 600
CREDITS_PER_EMAIL = 1
TESTS_LINE = "Tests sent from the preview"


# --- Usage ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageDay:
    day: date
    campaigns: int
    tests: int

    @property
    def total(self) -> int:
        return self.campaigns + self.tests


@dataclass(frozen=True)
class CampaignUsage:
    """A campaign's credits in the period; a recurring campaign's are its runs'."""

    campaign_id: int
    name: str
    recurring: bool
    runs: int
    credits: int
    still_sending: bool  # some of it is not settled: what the gateway does not take comes back


@dataclass
class CreditUsage:
    days: list[UsageDay]  # oldest first, every day of the period, today last
    campaigns: list[CampaignUsage]  # the top ones, most credits first
    other_campaigns: int  # how many more campaigns spent credits in the period
    other_campaigns_credits: int
    tests: int  # credits of tests sent from the preview in the period
    reserved: int  # credits held by campaigns still sending (any period): part may come back

    @property
    def total(self) -> int:
        return sum(day.total for day in self.days)

    @property
    def busiest(self) -> int:
        return max((day.total for day in self.days), default=0)


def usage_period(*, org: Org, moment: datetime, days: int = USAGE_DAYS) -> tuple[datetime, list[date]]:
    """The start of the period (midnight, on the org's clock, `days` - 1 days before today) and its days."""
    zone = ZoneInfo(org.timezone)
    today = moment.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    return datetime.combine(first, time.min, tzinfo=zone), [first + timedelta(days=n) for n in range(days)]


def _credits_by_day(rows: QuerySet, moment_field: str, credits_field: str, zone: ZoneInfo) -> dict:
    """{day: credits} of `rows`, by the day (in `zone`) of `moment_field`. One query."""
    return dict(
        rows.annotate(day=TruncDate(moment_field, tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(credits=Sum(credits_field))
        .values_list("day", "credits")
    )


def credit_usage(*, org: Org, moment: datetime | None = None, top: int = TOP_CAMPAIGNS) -> CreditUsage:
    """Credits spent per day over the last USAGE_DAYS days (the org's calendar) and by campaign, tests on their own
    line. Five queries whatever the number of campaigns, runs, tests or messages."""
    moment = moment or clock.now()
    since, period = usage_period(org=org, moment=moment)
    zone = ZoneInfo(org.timezone)
    charged = Campaign.objects.filter(org=org, credits_charged__gt=0)
    in_period = charged.filter(launched_at__gte=since)
    # 1. Campaigns by the day they started sending. 2. Tests by the day they were sent.
    by_day = _credits_by_day(in_period, "launched_at", "credits_charged", zone)
    tests_by_day = _credits_by_day(
        Proof.objects.filter(campaign__org=org, sent_at__gte=since, credits__gt=0), "sent_at", "credits", zone
    )
    # 3. By campaign, a recurring campaign's runs under it: the top ones.
    top_rows = list(
        in_period.annotate(key=Coalesce("parent_id", "pk"))
        .order_by()
        .values("key")
        .annotate(
            credits=Sum("credits_charged"),
            runs=Count("pk", filter=Q(parent__isnull=False)),
            unsettled=Count("pk", filter=Q(credits_settled_at__isnull=True)),
        )
        .order_by("-credits", "-key")[:top]
    )
    # 4. How many campaigns spent credits in the period, and what campaigns still sending hold.
    totals = charged.aggregate(
        campaigns=Count(Coalesce("parent_id", "pk"), distinct=True, filter=Q(launched_at__gte=since)),
        reserved=Sum("credits_charged", filter=Q(credits_settled_at__isnull=True, launched_at__isnull=False)),
    )
    # 5. The names of the top ones.
    names = dict(Campaign.objects.filter(pk__in=[row["key"] for row in top_rows]).values_list("pk", "name"))
    days = [UsageDay(day, by_day.get(day, 0), tests_by_day.get(day, 0)) for day in period]
    campaigns = [
        CampaignUsage(
            campaign_id=row["key"],
            name=names.get(row["key"], ""),
            recurring=row["runs"] > 0,
            runs=row["runs"],
            credits=row["credits"],
            still_sending=row["unsettled"] > 0,
        )
        for row in top_rows
    ]
    campaign_credits = sum(day.campaigns for day in days)
    return CreditUsage(
        days=days,
        campaigns=campaigns,
        other_campaigns=max(totals["campaigns"] - len(campaigns), 0),
        other_campaigns_credits=campaign_credits - sum(c.credits for c in campaigns),
        tests=sum(day.tests for day in days),
        reserved=totals["reserved"] or 0,
    )


def credit_top_ups(*, org: Org, limit: int = TOP_UPS_LISTED) -> QuerySet[CreditTopUp]:
    """The org's top-ups (and credits taken back), newest first, with who made them (shown to support staff only)."""
    return org.credit_top_ups.select_related("created_by").order_by("-created_at", "-pk")[:limit]


# --- Coming up -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditEstimate:
    credits: int | None  # per send (a recurring campaign: per run); None when the campaign cannot be estimated
    recipients: int
    sampled_from: int = 0  # estimated from this many recipients, not all of them
    problem: str = ""  # why it cannot be estimated


@dataclass(frozen=True)
class UpcomingCampaign:
    campaign: Campaign
    sends: list[datetime]  # when it sends (a recurring campaign: each run) in the period
    estimate: CreditEstimate
    more_runs: bool = False  # more than COMING_UP_RUNS runs: only those are counted

    @property
    def credits_each(self) -> int:
        return self.estimate.credits or 0

    @property
    def credits(self) -> int:
        return self.credits_each * len(self.sends)


@dataclass
class CreditOutlook:
    balance: int
    upcoming: list[UpcomingCampaign]
    not_estimated: int = 0  # upcoming campaigns beyond COMING_UP_CAMPAIGNS
    short_at: datetime | None = None  # the first send the balance would not cover, when it falls short
    cannot_estimate: list[UpcomingCampaign] = field(default_factory=list)

    @property
    def need(self) -> int:
        return sum(item.credits for item in self.upcoming)

    @property
    def short(self) -> bool:
        return self.need > self.balance


def credit_outlook(*, org: Org, moment: datetime | None = None, days: int = COMING_UP_DAYS) -> CreditOutlook:
    """The one-time campaigns scheduled and the recurring campaigns' runs in the next `days` days, with the credits
    each will need, and the moment the balance would not cover them any more. Held campaigns (the promotional
    window) count what they still have to send. Campaigns waiting for approval count as launched the way they ask:
    at the time asked for, or now (a recurring one: its runs from now)."""
    moment = moment or clock.now()
    until = moment + timedelta(days=days)
    waiting = Q(status=Campaign.Status.AWAITING_APPROVAL) & (
        Q(approval_scheduled_at__isnull=True) | Q(approval_scheduled_at__lte=until)
    )
    coming = (
        Campaign.objects.filter(org=org)
        .filter(
            Q(status=Campaign.Status.SCHEDULED, scheduled_at__lte=until)
            | Q(status=Campaign.Status.ACTIVE, parent__isnull=True, next_run_at__lte=until)
            | waiting
        )
        .select_related("org", "template", "template__sender", "audience_list", "audience_segment")
        .annotate(
            first_send=Case(
                When(waiting, then=Coalesce("approval_scheduled_at", Value(moment))),
                default=Coalesce("scheduled_at", "next_run_at"),
            )
        )
        .order_by("first_send", "pk")
    )
    found = list(coming[: COMING_UP_CAMPAIGNS + 1])
    outlook = CreditOutlook(balance=Org.objects.values_list("credits", flat=True).get(pk=org.pk), upcoming=[])
    if len(found) > COMING_UP_CAMPAIGNS:
        outlook.not_estimated = coming.count() - COMING_UP_CAMPAIGNS
        found = found[:COMING_UP_CAMPAIGNS]
    for campaign in found:
        sends, more = _sends(campaign, moment=moment, until=until)
        if not sends:
            continue
        estimate = campaign_credit_estimate(campaign=campaign)
        if campaign.status == Campaign.Status.SCHEDULED and campaign.launched_at and estimate.credits is not None:
            # Held part-way: the customers it already messaged are not messaged again.
            estimate = CreditEstimate(
                max(estimate.credits - campaign.credits_charged, 0),
                estimate.recipients,
                estimate.sampled_from,
            )
        item = UpcomingCampaign(campaign=campaign, sends=sends, estimate=estimate, more_runs=more)
        (outlook.upcoming if estimate.credits is not None else outlook.cannot_estimate).append(item)
    sends = sorted((at, item.credits_each) for item in outlook.upcoming for at in item.sends)
    for (at, _credits), needed in zip(sends, accumulate(credits for _at, credits in sends), strict=True):
        if needed > outlook.balance:
            outlook.short_at = at
            break
    return outlook


def _sends(campaign: Campaign, *, moment: datetime, until: datetime) -> tuple[list[datetime], bool]:
    waiting = campaign.status == Campaign.Status.AWAITING_APPROVAL
    if campaign.status == Campaign.Status.SCHEDULED or (waiting and not campaign.is_recurring):
        asked_for = campaign.approval_scheduled_at if waiting else campaign.scheduled_at
        return [max(asked_for or moment, moment)], False
    zone = ZoneInfo(campaign.org.timezone)
    if waiting:  # approved now, its first run is its schedule's next time
        first = croniter(campaign.schedule, moment.astimezone(zone)).get_next(datetime)
        if first > until:
            return [], False
    else:  # a run that is due starts at the supervisor's next pass
        first = max(campaign.next_run_at, moment)
    runs = croniter(campaign.schedule, first.astimezone(zone))
    sends = [first]
    while len(sends) <= COMING_UP_RUNS:
        at = runs.get_next(datetime)
        if at > until:
            return sends, False
        sends.append(at)
    return sends[:COMING_UP_RUNS], True


def campaign_credit_estimate(*, campaign: Campaign) -> CreditEstimate:
    """The credits one send of the campaign needs, as its preview estimates them; kept ESTIMATE_CACHE_SECONDS."""
    org = campaign.org
    key = (
        f"credits:estimate:{campaign.pk}:{campaign.updated_at.timestamp()}:"
        f"{org.sms_link_tracking}:{org.short_domain}:{org.short_link_with_scheme}"
    )
    estimate = cache.get(key)
    if estimate is None:
        estimate = _estimate(campaign)
        cache.set(key, estimate, ESTIMATE_CACHE_SECONDS)
    return estimate


def _estimate(campaign: Campaign) -> CreditEstimate:
    if campaign.template.channel == Channel.SMS and slots_use_customer(campaign.slot_values):
        audience = preview_audience(campaign=campaign)
        recipients = audience.count()
        if recipients > FULL_ESTIMATE_LIMIT:
            return _sampled_estimate(campaign, audience, recipients)
    preview = campaign_preview(campaign=campaign)
    if preview.problems:
        return CreditEstimate(None, preview.recipients, problem=" ".join(preview.problems))
    if preview.channel == Channel.EMAIL:
        return CreditEstimate(preview.recipients * CREDITS_PER_EMAIL, preview.recipients)
    return CreditEstimate(preview.credits_after, preview.recipients)


def _sampled_estimate(campaign: Campaign, audience: QuerySet[Customer], recipients: int) -> CreditEstimate:
    """The preview's measure (each message as sent, with a short link of the real length) over the first
    ESTIMATE_SAMPLE recipients, the average scaled to the audience and rounded up."""
    try:
        parsed = parse_template(campaign.template.body)
    except TemplateError as error:
        return CreditEstimate(None, recipients, problem=f"The template is not a valid DLT template: {error}.")
    rows = audience.order_by("pk").values_list(*CUSTOMER_COLUMNS)[:ESTIMATE_SAMPLE]
    sample = [Customer(**dict(zip(CUSTOMER_COLUMNS, row, strict=True))) for row in rows]
    attach_coupons(campaign, sample)
    short = example_short_url(campaign.org)
    segments = 0
    for customer in sample:
        values = [slot_value(slot, customer) for slot in campaign.slot_values]
        try:
            text = render_sms(
                parsed=parsed, values=values, tracking=campaign.org.sms_link_tracking, short_url_for=lambda _: short
            )
        except RenderRefused:
            continue  # not sent, so it costs nothing
        segments += sms_length(text).segments
    credits = math.ceil(segments * recipients / len(sample)) if sample else 0
    return CreditEstimate(credits, recipients, sampled_from=len(sample))


def when_in_words(moment: datetime, *, org: Org, now: datetime) -> str:
    """'today 18:00', 'tomorrow 10:00', 'Friday 10:00' or, a week ahead, 'Friday 4 Dec 10:00', on the org's clock."""
    zone = ZoneInfo(org.timezone)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    ahead = (local.date() - today).days
    if ahead <= 0:
        day = "today"
    elif ahead == 1:
        day = "tomorrow"
    elif ahead < 7:
        day = f"{local:%A}"
    else:
        day = f"{local:%A %-d %b}"
    return f"{day} {local:%H:%M}"


def shortfall_in_words(*, org: Org, outlook: CreditOutlook, now: datetime, days: int = COMING_UP_DAYS) -> str:
    """The warning when the campaigns coming up need more than the balance; "" when it covers them."""
    if not outlook.short:
        return ""
    words = (
        f"Campaigns scheduled for the next {days} days need about {outlook.need:,} credits; "
        f"{org.name} has {outlook.balance:,}."
    )
    if outlook.short_at is not None:
        words += f" Ask support to add credits before {when_in_words(outlook.short_at, org=org, now=now)}."
    return words
