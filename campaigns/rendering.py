"""Fill a template's slots for one customer and rewrite the links in them into tracked short links."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from campaigns.dlt import ParsedTemplate, TemplateError, parse_template
from campaigns.links import LinkError, find_links
from campaigns.models import Campaign, Channel, Customer, Org
from campaigns.sms import sms_length
from linktrack.services import short_link_base, short_links_for, short_url

if TYPE_CHECKING:
    from delivery.models import Message

SLOT_SOURCES = {"text": "Text", "field": "Customer field", "url": "Link"}
CUSTOMER_FIELDS = ("name", "mobile", "email", "external_id")


def slot_value(slot: dict, customer: Customer) -> str:
    if slot.get("source") == "field":
        field = slot.get("value", "")
        if field in CUSTOMER_FIELDS:
            return str(getattr(customer, field) or "")
        return str(customer.attributes.get(field, ""))
    return slot.get("value", "")


def rewrite_links(value: str, short_url_for: Callable[[str], str]) -> str:
    """Replace every link in a slot value by the short URL minted for its destination."""
    pieces, last = [], 0
    for link in find_links(value):
        pieces += [value[last : link.start], short_url_for(link.destination)]
        last = link.end
    return "".join(pieces) + value[last:]


def example_short_url(org: Org) -> str:
    """A short link as long as the ones messages will carry, for length checks before any code exists."""
    return short_link_base(org=org) + "X" * settings.SHORT_CODE_MIN_LENGTH


@dataclass(frozen=True)
class Problem:
    message: str
    slot: int | None = None  # 1-based variable number, when the problem is in one variable's value

    def __str__(self) -> str:
        return self.message


def campaign_problems(*, org: Org, body: str, slot_values: list[dict]) -> list[Problem]:
    """Everything that would make a campaign's messages fail DLT scrubbing, in words; empty when it is fine."""
    try:
        parsed = parse_template(body)
    except TemplateError as error:
        return [Problem(f"The template is not a valid DLT template: {error}.")]
    if len(slot_values) != len(parsed.slots):
        return [
            Problem(f"The template has {len(parsed.slots)} variable(s) but {len(slot_values)} value(s) were given.")
        ]
    problems = [Problem(message) for message in template_link_problems(org=org, parsed=parsed)]
    limit = settings.DLT_VARIABLE_MAX_LENGTH
    for number, slot in enumerate(slot_values, start=1):
        if slot.get("source") == "field":
            continue  # checked per customer at dispatch
        value = slot.get("value", "")
        try:
            rewritten = rewrite_links(value, lambda _: example_short_url(org)) if org.sms_link_tracking else value
        except LinkError as error:
            problems.append(Problem(f"{error}.", number))
            continue
        if len(rewritten) > limit:
            after = " after its link is shortened" if rewritten != value else ""
            problems.append(
                Problem(
                    f"This value is {len(rewritten)} characters{after} ('{rewritten}'); DLT allows at most "
                    f"{limit} per variable, so operators would block the message. Shorten it or split it over two "
                    f"variables.",
                    number,
                )
            )
    return problems


def template_link_problems(*, org: Org, parsed: ParsedTemplate) -> list[str]:
    """Links in a template's fixed text: they cannot be tracked, and rewriting them would break DLT matching."""
    if not org.sms_link_tracking:
        return []
    problems = []
    for fixed in parsed.fixed:
        try:
            links = find_links(fixed)
        except LinkError as error:
            problems.append(f"{error}.")
            continue
        problems += [
            f"The link '{link.text}' is in the fixed text of the template, outside a {{#var#}} variable. With link "
            f"tracking on, links are replaced by short links, and a changed fixed text no longer matches the DLT "
            f"template, so operators would block every message. Move the link into a {{#var#}} variable."
            for link in links
        ]
    return problems


class MessageRenderer:
    """Renders messages of one campaign; remembers the short link of each destination it has minted."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.template = parse_template(campaign.template.body)
        self.tracking = campaign.org.sms_link_tracking
        self.short_link_ids: dict[str, int] = {}

    def render(self, messages: list["Message"]) -> None:
        values_by_message = {m.pk: [slot_value(s, m.customer) for s in self.campaign.slot_values] for m in messages}
        if self.tracking:
            self._mint_short_links(values_by_message.values())
        for message in messages:
            try:
                values = [self._rewrite(v, message.pk) for v in values_by_message[message.pk]]
            except LinkError:
                message.mark_not_sent("dlt_template_mismatch")
                continue
            message.body = self.template.render(values)
            if message.channel == Channel.SMS:
                if not self.template.matches(message.body):
                    message.mark_not_sent("dlt_template_mismatch")
                    continue
                message.segments = sms_length(message.body).segments
            else:
                message.segments = 1

    def _mint_short_links(self, all_values) -> None:
        destinations = set()
        for values in all_values:
            for value in values:
                try:
                    destinations.update(link.destination for link in find_links(value))
                except LinkError:
                    continue
        new = destinations - self.short_link_ids.keys()
        if new:
            self.short_link_ids.update(short_links_for(campaign=self.campaign, destinations=new))

    def _rewrite(self, value: str, message_id: int) -> str:
        if not self.tracking:
            find_links(value)  # refuses javascript:, data:, file: links even when nothing is rewritten
            return value
        return rewrite_links(
            value,
            lambda destination: short_url(
                org=self.campaign.org, short_link_id=self.short_link_ids[destination], message_id=message_id
            ),
        )
