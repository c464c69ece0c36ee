"""Fill a template's slots for one customer and rewrite the links in them into tracked short links."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from campaigns.dlt import ParsedTemplate, TemplateError, parse_template
from campaigns.links import LinkError, find_links
from campaigns.models import Customer, Org

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


def example_short_url() -> str:
    """The longest-looking short link a message could carry, for length checks before any code exists."""
    base = settings.SHORT_LINK_BASE_URL
    if not settings.SHORT_LINK_SHOW_SCHEME:
        base = base.split("://", 1)[-1]
    return base + "X" * settings.SHORT_CODE_MIN_LENGTH


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
            rewritten = rewrite_links(value, lambda _: example_short_url()) if org.sms_link_tracking else value
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
