"""Campaign preview: the message before and after link rewriting, its length, the credits for the audience, and
the links its messages lead to."""

from dataclasses import dataclass, field
from itertools import islice
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from campaigns.base import clock
from campaigns.customers.campaign_audience import campaign_audience, coupon_expiry_date
from campaigns.dlt import trai
from campaigns.dlt.link_finding import LinkError, find_links
from campaigns.dlt.parsing import TemplateError, parse_template
from campaigns.dlt.rendering import (
    EmailParts,
    RenderRefused,
    absolute_url,
    customer_field_value,
    example_short_url,
    fill_email,
    render_sms,
    rewrite_email,
    rewrite_hrefs,
    slot_value,
    slots_use_customer,
    with_coupon_values,
)
from campaigns.dlt.sms_length import SmsLength, sms_length
from campaigns.models import Campaign, Channel, Coupon, Customer
from campaigns.sending.rules import campaign_frequency_cap_note
from linktrack.selectors import redirect_location

CUSTOMER_COLUMNS = ("pk", "name", "mobile", "email", "external_id", "attributes")


@dataclass(frozen=True)
class MessageFigures:
    text: str
    length: SmsLength


@dataclass
class CampaignPreview:
    channel: str
    tracking: bool
    customer: Customer | None
    recipients: int = 0
    before: MessageFigures | None = None
    after: MessageFigures | None = None
    refused: str = ""  # why the sample customer's message would not be sent
    email_before: EmailParts | None = None
    email_after: EmailParts | None = None
    credits_before: int = 0
    credits_after: int = 0
    not_sendable: int = 0  # recipients whose message would be refused (a value that does not fit its variable)
    problems: list[str] = field(default_factory=list)
    frequency_cap: str = ""  # the org's limit of promotional messages per customer, and whether it holds this back
    empty_fields: list["EmptyField"] = field(default_factory=list)  # customer fields empty for some recipients

    @property
    def credits_difference(self) -> int:
        return self.credits_after - self.credits_before


@dataclass(frozen=True)
class EmptyField:
    """A variable reading a customer field that some recipients have empty: they get the fallback instead."""

    slot: int  # 1-based variable number
    field: str
    recipients: int  # how many recipients have it empty
    fallback: str


class _EmptyFieldCount:
    def __init__(self, campaign: Campaign):
        self.slots = [
            (number, slot) for number, slot in enumerate(campaign.slot_values, start=1) if slot.get("source") == "field"
        ]
        self.empty = dict.fromkeys((number for number, _ in self.slots), 0)

    def add(self, customer: Customer) -> None:
        for number, slot in self.slots:
            if not customer_field_value(slot.get("value", ""), customer):
                self.empty[number] += 1

    def found(self) -> list[EmptyField]:
        return [
            EmptyField(number, slot.get("value", ""), self.empty[number], slot.get("fallback", ""))
            for number, slot in self.slots
            if self.empty[number]
        ]


def preview_audience(*, campaign: Campaign) -> QuerySet[Customer]:
    """Who would be messaged if it were launched now: the campaign's audience as dispatch chooses it (a resend's
    recipients with the chosen outcomes, a coupon reminder's customers whose coupons expire on the day), subscribed
    and with an address on the channel."""
    customers = campaign_audience(campaign)
    if campaign.template.channel == Channel.EMAIL:
        return customers.filter(email_subscribed=True).exclude(email="")
    return customers.filter(sms_subscribed=True).exclude(mobile="")


def campaign_preview(
    *, campaign: Campaign, customer: Customer | None = None, batch_size: int = 2000
) -> CampaignPreview:
    """Render the message for one sample customer (the first of the audience unless given) and count credits.

    Credits are one per segment per message. When no slot reads a customer field, every message is the same and
    the audience is only counted; otherwise customers are read in batches and each message measured.
    """
    audience = preview_audience(campaign=campaign)
    customer = customer or audience.order_by("pk").first()
    preview = CampaignPreview(
        channel=campaign.template.channel,
        tracking=campaign.org.sms_link_tracking,
        customer=customer,
        frequency_cap=campaign_frequency_cap_note(campaign),
    )
    try:
        parsed = parse_template(campaign.template.body)
    except TemplateError as error:
        preview.problems.append(f"The template is not a valid DLT template: {error}.")
        return preview
    if len(parsed.slots) != len(campaign.slot_values):
        preview.problems.append("The campaign's values do not match the template's variables.")
        return preview
    sample = customer or Customer(org=campaign.org)
    attach_coupons(campaign, [sample])
    empty = _EmptyFieldCount(campaign)
    if preview.channel == Channel.EMAIL:
        _email_preview(preview, campaign, sample)
        preview.recipients = audience.count()
        if empty.slots:
            for batch in _batches(campaign, audience, batch_size):
                for each in batch:
                    empty.add(each)
            preview.empty_fields = empty.found()
        return preview
    measure = _SmsMeasure(campaign, parsed)
    before, after, preview.refused = measure.render(sample)
    preview.before = MessageFigures(before, sms_length(before))
    preview.after = MessageFigures(after, sms_length(after)) if after is not None else None
    if slots_use_customer(campaign.slot_values):
        for batch in _batches(campaign, audience, batch_size):
            for each in batch:
                _add_credits(preview, *measure.segments(each))
                empty.add(each)
        preview.empty_fields = empty.found()
    else:
        preview.recipients = audience.count()
        segments_before, segments_after = measure.segments(sample)
        preview.credits_before = segments_before * preview.recipients
        preview.credits_after = segments_after * preview.recipients if segments_after is not None else 0
        preview.not_sendable = preview.recipients if segments_after is None else 0
    return preview


def _batches(campaign: Campaign, audience: QuerySet[Customer], batch_size: int):
    """The audience's customers in batches, with their coupons attached (a coupon-expiry reminder)."""
    rows = audience.order_by().values_list(*CUSTOMER_COLUMNS).iterator(chunk_size=batch_size)
    while batch := [Customer(**dict(zip(CUSTOMER_COLUMNS, row, strict=True))) for row in islice(rows, batch_size)]:
        attach_coupons(campaign, batch)
        yield batch


def campaign_trai_findings(*, campaign: Campaign, customer: Customer | None = None) -> list[trai.Finding]:
    """TRAI's rules for this campaign before launch (fixed-text share, variables, whitelisted links), values from
    customer fields read for the sample customer. The blocking ones are what launching would refuse."""
    sample = customer
    if sample is not None:
        attach_coupons(campaign, [sample])
    return trai.campaign_findings(
        org=campaign.org, template=campaign.template, slot_values=campaign.slot_values, customer=sample
    )


def attach_coupons(campaign: Campaign, customers: list[Customer]) -> None:
    """A coupon-expiry reminder's slots read `coupon_code` and `coupon_expiry` (as dispatch fills them, in memory):
    the preview uses each customer's coupon expiring on the day a launch now would remind of, as dispatch does, or
    else their next coupon to expire. One query per batch."""
    if campaign.kind != Campaign.Kind.COUPON_REMINDER or not any(c.pk for c in customers):
        return
    reminded = coupon_expiry_date(campaign)
    today = clock.now().astimezone(ZoneInfo(campaign.org.timezone)).date()  # the org's day, as dispatch's
    coupons: dict[int, tuple[str, object]] = {}
    for customer_id, code, expires_on in sorted(
        Coupon.objects.filter(customer__in=[c.pk for c in customers if c.pk], expires_on__gte=today).values_list(
            "customer_id", "code", "expires_on"
        ),
        key=lambda coupon: (coupon[0], coupon[2] != reminded, coupon[2]),
    ):
        coupons.setdefault(customer_id, (code, expires_on))
    with_coupon_values(customers, coupons)


def _add_credits(preview: CampaignPreview, segments_before: int, segments_after: int | None) -> None:
    preview.recipients += 1
    preview.credits_before += segments_before
    if segments_after is None:
        preview.not_sendable += 1
    else:
        preview.credits_after += segments_after


class _SmsMeasure:
    """Renders a campaign's SMS with an example short link of the real length; remembers repeated values."""

    def __init__(self, campaign: Campaign, parsed):
        self.campaign = campaign
        self.parsed = parsed
        self.short = example_short_url(campaign.org)
        self.seen: dict[tuple[str, ...], tuple[int, int | None]] = {}

    def render(self, customer: Customer) -> tuple[str, str | None, str]:
        values = [slot_value(slot, customer) for slot in self.campaign.slot_values]
        before = self.parsed.render(values)
        try:
            after = render_sms(
                parsed=self.parsed,
                values=values,
                tracking=self.campaign.org.sms_link_tracking,
                short_url_for=lambda _: self.short,
            )
        except RenderRefused as refused:
            return before, None, str(refused)
        return before, after, ""

    def segments(self, customer: Customer) -> tuple[int, int | None]:
        values = tuple(slot_value(slot, customer) for slot in self.campaign.slot_values)
        if values not in self.seen:
            before, after, _ = self.render(customer)
            self.seen[values] = (
                sms_length(before).segments,
                sms_length(after).segments if after is not None else None,
            )
        return self.seen[values]


def _email_preview(preview: CampaignPreview, campaign: Campaign, customer: Customer) -> None:
    template = campaign.template
    values = [slot_value(slot, customer) for slot in campaign.slot_values]
    try:
        parts = fill_email(subject=template.subject, body=template.body, html_body=template.html_body, values=values)
        preview.email_before = parts
        short = absolute_url(campaign.org, example_short_url(campaign.org))
        preview.email_after = rewrite_email(parts, tracking=preview.tracking, short_url_for=lambda _: short)
    except (LinkError, TemplateError) as error:
        preview.refused = f"{error}."


# --- The links its messages lead to ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignLink:
    destination: str  # the link as the message carries it, with a scheme (https:// when none was written)
    url: str | None  # where a click lands (tracked: as the redirect sends it, UTM added); None: no web address
    tracked: bool
    from_customer: bool  # it comes from a customer field: each customer's message has their own


def campaign_links(*, campaign: Campaign, customer: Customer | None = None) -> list[CampaignLink]:
    """The distinct links the campaign's messages lead to, in the order they appear, for the sample customer (a
    link from a customer field differs from one customer to the next; the fixed ones are the same for all).

    A tracked link (tracking on; in SMS only inside a variable) is checked where the redirect sends a click, with
    the campaign's UTM parameters; an untracked one as written. Links a message would be refused for are left out:
    the preview says why already.
    """
    sample = customer or Customer(org=campaign.org)
    attach_coupons(campaign, [sample])
    template = campaign.template
    values = [slot_value(slot, sample) for slot in campaign.slot_values]
    from_fields = {v for s, v in zip(campaign.slot_values, values, strict=True) if s.get("source") == "field"}
    tracking = campaign.org.sms_link_tracking
    try:
        if template.channel == Channel.EMAIL:
            found = _email_links(template, values, tracking, _destinations_in(from_fields))
        else:
            found = _sms_links(template.body, campaign.slot_values, values, tracking)
    except (LinkError, TemplateError, ValueError):
        return []
    links: dict[str, CampaignLink] = {}
    for destination, tracked, from_customer in found:
        url = redirect_location(destination, campaign.utm_params if tracked else None)
        key = url or destination
        if key in links:
            from_customer = from_customer and links[key].from_customer
        links[key] = CampaignLink(destination, url, tracked, from_customer)
    return list(links.values())


def _destinations_in(values) -> set[str]:
    found = set()
    for value in values:
        try:
            found.update(link.destination for link in find_links(value))
        except LinkError:
            continue
    return found


def _sms_links(body: str, slots: list[dict], values: list[str], tracking: bool) -> list[tuple[str, bool, bool]]:
    """(destination, tracked, from a customer field) in message order; fixed text is never rewritten."""
    parsed = parse_template(body)
    found = []
    for number, fixed in enumerate(parsed.fixed):
        found += [(link.destination, False, False) for link in find_links(fixed)]
        if number < len(values):
            from_customer = slots[number].get("source") == "field"
            found += [(link.destination, tracking, from_customer) for link in find_links(values[number])]
    return found


def _email_links(template, values: list[str], tracking: bool, customer_destinations: set[str]) -> list:
    """(destination, tracked, from a customer field): the text part's links, then the HTML part's http(s) hrefs."""
    parts = fill_email(subject=template.subject, body=template.body, html_body=template.html_body, values=values)
    destinations = [link.destination for link in find_links(parts.text)]
    rewrite_hrefs(parts.html, lambda destination: destinations.append(destination) or destination)
    return [(destination, tracking, destination in customer_destinations) for destination in destinations]
