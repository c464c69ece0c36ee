"""Fill a template's slots for one customer and rewrite the links in them with the short URL a function gives
(campaigns.sending.renderer mints them); and the checks a campaign's values pass before it is saved.

SMS: only links inside a slot value are rewritten (the fixed text must stay exactly as registered on DLT), each
value must fit its DLT variable after rewriting, and the final message is matched against the template before it
may go to a gateway. Email: no DLT, so every http(s) link of the text part and every http(s) `href` of the HTML
part is rewritten; `mailto:`, `tel:` and relative links are left alone, `javascript:` is refused.
"""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings

from campaigns.dlt.link_finding import LinkError, find_links, link_destination
from campaigns.dlt.parsing import ParsedTemplate, TemplateError, parse_template, slot_value_problem
from campaigns.models import Channel, Customer, Org
from linktrack.selectors import short_link_base

if TYPE_CHECKING:
    pass

SLOT_SOURCES = {"text": "Text", "field": "Customer field", "url": "Link"}
CUSTOMER_FIELDS = ("name", "mobile", "email", "external_id")
# Not-sent reasons (delivery's catalogue) for a message refused while rendering.
SMS_REFUSED_REASON = "dlt_template_mismatch"
# A link in a value that cannot be sent (javascript:, or no address a browser could open): the templates and the
# campaign's own values are checked before launch, so at sending it comes from a customer's details.
LINK_REFUSED_REASON = "unusable_link"

_HREF = re.compile(r"""(?P<lead>\bhref\s*=\s*)(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'>]+))""", re.I)
_HREF_UNSAFE = re.compile(r"(?:javascript|vbscript|data|file):", re.I)
_CONTROL = re.compile(r"[\x00-\x20]")


class RenderRefused(Exception):
    """A message that must not be sent, with the reason code and what went wrong in words."""

    def __init__(self, reason_code: str, message: str):
        self.reason_code = reason_code
        super().__init__(message)


def with_coupon_values(customers: list[Customer], coupons: dict[int, tuple[str, date]]) -> None:
    """Give coupon-expiry reminders their slot values: each customer's coupon as the attributes `coupon_code`
    and `coupon_expiry` (in memory only; dispatch and preview both render from these)."""
    for customer in customers:
        if customer.pk in coupons:
            code, expires_on = coupons[customer.pk]
            customer.attributes = {
                **(customer.attributes or {}),
                "coupon_code": code,
                "coupon_expiry": f"{expires_on:%-d %b %Y}",
            }


def slot_value(slot: dict, customer: Customer) -> str:
    """The value of one slot for one customer: a customer field empty for this customer gives the slot's fallback
    (what the campaign chose for them; nothing when it chose none)."""
    if slot.get("source") == "field":
        return customer_field_value(slot.get("value", ""), customer) or slot.get("fallback", "")
    return slot.get("value", "")


def customer_field_value(field: str, customer: Customer) -> str:
    """A customer field's value, tidied to single spaces: DLT scrubbers reject a message with two spaces in a row
    where the template has one."""
    value = getattr(customer, field) if field in CUSTOMER_FIELDS else (customer.attributes or {}).get(field, "")
    return " ".join(str(value if value is not None else "").split())


def slots_use_customer(slot_values: list[dict]) -> bool:
    """True when a value comes from the customer, so messages differ from one customer to the next."""
    return any(slot.get("source") == "field" for slot in slot_values)


def rewrite_links(value: str, short_url_for: Callable[[str], str]) -> str:
    """Replace every link in a text by the short URL minted for its destination."""
    pieces, last = [], 0
    for link in find_links(value):
        pieces += [value[last : link.start], short_url_for(link.destination)]
        last = link.end
    return "".join(pieces) + value[last:]


def example_short_url(org: Org) -> str:
    """A short link as long as the ones messages will carry, for length checks before any code exists."""
    return short_link_base(org=org) + "X" * settings.SHORT_CODE_MIN_LENGTH


def absolute_url(org: Org, url: str) -> str:
    """A short URL with its scheme, as an email `href` needs it (SMS shows it without)."""
    if "://" in url:
        return url
    if org.short_domain:
        return f"https://{url}"
    scheme = settings.SHORT_LINK_BASE_URL.split("://", 1)[0] if "://" in settings.SHORT_LINK_BASE_URL else "https"
    return f"{scheme}://{url}"


# --- SMS ---------------------------------------------------------------------------------------------------------


def render_sms(
    *,
    parsed: ParsedTemplate,
    values: list[str],
    tracking: bool,
    short_url_for: Callable[[str], str],
    max_length: int | None = None,
) -> str:
    """The message an operator will see, or RenderRefused: links in values rewritten when tracking is on, each
    value checked against its DLT variable, and the whole message matched against the template."""
    filled = []
    for number, (kind, value) in enumerate(zip(parsed.slots, values, strict=True), start=1):
        try:
            # Tracking off: nothing is rewritten, but a javascript:, data: or file: link is still refused.
            rewritten = rewrite_links(value, short_url_for) if tracking else _checked(value)
        except LinkError as error:
            raise RenderRefused(LINK_REFUSED_REASON, f"Variable {number}: {error}.") from error
        filled.append(_fitting(number, kind, rewritten, max_length))
    return _whole_message(parsed, filled, parsed.matcher(max_length), _double_spaces(parsed))


def _fitting(number: int, kind: str, value: str, max_length: int | None) -> str:
    """`value` when it fits the number-th variable, of this kind; else RenderRefused."""
    problem = slot_value_problem(kind, value, max_length)
    if problem:
        raise RenderRefused(SMS_REFUSED_REASON, f"Variable {number} ('{value}'): {problem}.")
    return value


def _whole_message(parsed: ParsedTemplate, filled: list[str], matcher: re.Pattern, double_spaces: int) -> str:
    """The template filled with checked values, matched against the template (`matcher`, of parsed.matcher) as an
    operator's scrubber would, and with no more double spaces than its fixed text has (`double_spaces`)."""
    body = parsed.render(filled)
    if matcher.fullmatch(body) is None:
        raise RenderRefused(SMS_REFUSED_REASON, "The message does not match its DLT template.")
    if body.count("  ") > double_spaces:
        raise RenderRefused(
            SMS_REFUSED_REASON, "The message has two spaces in a row where the template has one; operators reject it."
        )
    return body


def _double_spaces(parsed: ParsedTemplate) -> int:
    return sum(fixed.count("  ") for fixed in parsed.fixed)


class SmsCampaignRendering:
    """render_sms for every recipient of one campaign, with what is the same for all of them done once.

    A text or link slot holds the same value in every message: its links are found once, and per message only the
    short URLs are put in their places. A customer field is read and its links found per message. Every value,
    the same ones included, is then checked against its variable and the whole message against the template, as
    render_sms checks them, so a message refused there is refused here for the same reason.
    """

    def __init__(self, *, parsed: ParsedTemplate, slot_values: list[dict], tracking: bool, max_length: int | None):
        self.parsed = parsed
        self.tracking = tracking
        self.max_length = max_length
        self._matcher, self._double_spaces = parsed.matcher(max_length), _double_spaces(parsed)
        # Per slot: (number, kind, the slot when it is a customer field, else the value's links or LinkError).
        self._slots = []
        for number, (kind, slot) in enumerate(zip(parsed.slots, slot_values, strict=True), start=1):
            if slot.get("source") == "field":
                self._slots.append((number, kind, slot, None))
                continue
            value = slot.get("value", "")
            try:
                same = _LinkedText(value, find_links(value))
            except LinkError as error:
                same = error
            self._slots.append((number, kind, None, same))

    def destinations(self, customers: list[Customer]) -> set[str]:
        """The link destinations of these customers' messages (before they are rendered: their short links are
        minted first); a value whose link cannot be sent adds nothing (it is refused when rendered)."""
        destinations = set()
        fields = []
        for _, _, field, same in self._slots:
            if field:
                fields.append(field)
            elif not isinstance(same, LinkError):
                destinations.update(link.destination for link in same.links)
        for customer in customers:
            for field in fields:
                try:
                    destinations.update(link.destination for link in find_links(slot_value(field, customer)))
                except LinkError:
                    continue
        return destinations

    def render(self, customer: Customer, short_url_for: Callable[[str], str]) -> str:
        """This customer's message, or RenderRefused (as render_sms)."""
        filled = []
        for number, kind, field, same in self._slots:
            try:
                if field:
                    value = slot_value(field, customer)
                    rewritten = rewrite_links(value, short_url_for) if self.tracking else _checked(value)
                elif isinstance(same, LinkError):
                    raise same
                else:
                    rewritten = same.rewritten(short_url_for) if self.tracking else same.text
            except LinkError as error:
                raise RenderRefused(LINK_REFUSED_REASON, f"Variable {number}: {error}.") from error
            filled.append(_fitting(number, kind, rewritten, self.max_length))
        return _whole_message(self.parsed, filled, self._matcher, self._double_spaces)


class _LinkedText:
    """A text with its links found: rewritten by putting each link's short URL in its place (as rewrite_links)."""

    def __init__(self, text: str, links: list):
        self.text = text
        self.links = links
        starts = [0, *(link.end for link in links)]
        self._pieces = [
            (text[start : link.start], link.destination) for start, link in zip(starts[:-1], links, strict=True)
        ]
        self._tail = text[starts[-1] :]

    def rewritten(self, short_url_for: Callable[[str], str]) -> str:
        if not self._pieces:
            return self.text
        return "".join([before + short_url_for(destination) for before, destination in self._pieces]) + self._tail


def _checked(value: str) -> str:
    find_links(value)
    return value


# --- Email -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailParts:
    subject: str
    text: str
    html: str


def fill_email(*, subject: str, body: str, html_body: str, values: list[str]) -> EmailParts:
    """Fill the `{#var#}` tags of each part; the n-th tag of every part takes the n-th value (HTML-escaped in HTML)."""
    return EmailParts(
        subject=_fill(subject, values, escape=False).replace("\n", " "),
        text=_fill(body, values, escape=False),
        html=_fill(html_body, values, escape=True),
    )


def _fill(text: str, values: list[str], *, escape: bool) -> str:
    if not text:
        return ""
    parsed = parse_template(text)
    used = values[: len(parsed.slots)]
    return parsed.render([html.escape(v) for v in used] if escape else used)


def email_destinations(parts: EmailParts) -> set[str]:
    """Every destination a tracked email would link to (raises LinkError for a javascript: link)."""
    destinations = {link.destination for link in find_links(parts.text)}
    rewrite_hrefs(parts.html, lambda destination: destinations.add(destination) or destination)
    return destinations


def rewrite_email(parts: EmailParts, *, tracking: bool, short_url_for: Callable[[str], str]) -> EmailParts:
    """Rewrite links of the text part and http(s) `href`s of the HTML part; raises LinkError for javascript:."""
    if not tracking:
        find_links(parts.text)
        rewrite_hrefs(parts.html, lambda destination: destination)
        return parts
    return EmailParts(
        subject=parts.subject,
        text=rewrite_links(parts.text, short_url_for),
        html=rewrite_hrefs(parts.html, short_url_for),
    )


def rewrite_hrefs(markup: str, short_url_for: Callable[[str], str]) -> str:
    """Replace each http(s) `href` by its short URL. mailto:, tel:, relative and #anchor hrefs stay as they are."""

    def replace(match: re.Match) -> str:
        raw = match.group("dq") if match.group("dq") is not None else match.group("sq") or match.group("bare") or ""
        url = html.unescape(raw).strip()
        # Browsers ignore tabs, newlines and control characters inside a scheme ("java\tscript:").
        if _HREF_UNSAFE.match(_CONTROL.sub("", url)):
            raise LinkError(f"'{url[:40]}' links are not allowed: only http and https links can be sent and tracked")
        if not re.match(r"https?://", url, re.IGNORECASE):
            return match.group(0)
        return f'{match.group("lead")}"{html.escape(short_url_for(link_destination(url)))}"'

    return _HREF.sub(replace, markup)


# --- Checks before saving ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    message: str
    slot: int | None = None  # 1-based variable number, when the problem is in one variable's value
    part: str = "value"  # which of the variable's values: "value", or "fallback" (for an empty customer field)

    def __str__(self) -> str:
        return f"Variable {self.slot}: {self.message}" if self.slot else self.message


def campaign_problems(
    *, org: Org, body: str, slot_values: list[dict], channel: str = Channel.SMS, html_body: str = "", subject: str = ""
) -> list[Problem]:
    """Everything that would make a campaign's messages fail (DLT scrubbing for SMS), in words; empty when fine."""
    try:
        parsed = parse_template(body)
    except TemplateError as error:
        return [Problem(f"The template is not a valid DLT template: {error}.")]
    if len(slot_values) != len(parsed.slots):
        return [
            Problem(f"The template has {len(parsed.slots)} variable(s) but {len(slot_values)} value(s) were given.")
        ]
    if channel == Channel.EMAIL:
        problems = [Problem(p) for p in email_template_problems(body=body, html_body=html_body, subject=subject)]
    else:
        problems = [Problem(message) for message in template_link_problems(org=org, parsed=parsed)]
    for number, (kind, slot) in enumerate(zip(parsed.slots, slot_values, strict=True), start=1):
        if slot.get("source") == "field":
            # The customer's value is checked per customer when the message is rendered; the fallback is fixed.
            fallback = slot.get("fallback", "")
            problem = fallback and _static_value_problem(org, channel, kind, {"source": "text", "value": fallback})
            if problem:
                problems.append(Problem(f"When the field is empty: {problem}", number, "fallback"))
            continue
        problem = _static_value_problem(org, channel, kind, slot)
        if problem:
            problems.append(Problem(problem, number))
    return problems


def template_campaign_problems(*, org: Org, template, slot_values: list[dict]) -> list[Problem]:
    """campaign_problems for a saved template: SMS and email templates each get their own checks."""
    return campaign_problems(
        org=org,
        body=template.body,
        slot_values=slot_values,
        channel=template.channel,
        html_body=template.html_body,
        subject=template.subject,
    )


def _static_value_problem(org: Org, channel: str, kind: str, slot: dict) -> str | None:
    value = slot.get("value", "")
    try:
        links = find_links(value)
    except LinkError as error:
        return f"{error}."
    if slot.get("source") == "url" and not (len(links) == 1 and links[0].text == value.strip()):
        return f"'{value}' is not a web link: write one link such as https://shop.example.in/sale."
    if channel == Channel.EMAIL:
        return None
    if "  " in value:
        return "This value has two spaces in a row; DLT scrubbers reject such messages. Use single spaces."
    limit = settings.DLT_VARIABLE_MAX_LENGTH
    rewritten = rewrite_links(value, lambda _: example_short_url(org)) if org.sms_link_tracking and links else value
    problem = slot_value_problem(kind, rewritten, limit)
    if problem and len(rewritten) > limit:
        after = " after its link is shortened" if rewritten != value else ""
        return (
            f"This value is {len(rewritten)} characters{after} ('{rewritten}'); DLT allows at most {limit} per "
            f"variable, so operators would block the message. Shorten it or split it over two variables."
        )
    if problem:
        return f"'{value}' does not fit this variable: {problem}."
    return None


def template_link_problems(*, org: Org, parsed: ParsedTemplate) -> list[str]:
    """Links in an SMS template's fixed text: never javascript: and friends; with tracking on, none at all (they
    cannot be tracked, and rewriting them would break the DLT match)."""
    problems = []
    for fixed in parsed.fixed:
        try:
            links = find_links(fixed)
        except LinkError as error:
            problems.append(f"{error}.")
            continue
        if org.sms_link_tracking:
            problems += [fixed_link_problem(link.text) for link in links]
    return problems


def fixed_link_problem(link: str) -> str:
    return (
        f"The link '{link}' is in the fixed text of the template, outside a {{#var#}} variable. With link "
        f"tracking on, links are replaced by short links, and a changed fixed text no longer matches the DLT "
        f"template, so operators would block every message. Move the link into a {{#var#}} variable."
    )


def fixed_links(parsed: ParsedTemplate) -> list[str]:
    """The links written in a template's fixed text (unsafe ones included, as written)."""
    found = []
    for fixed in parsed.fixed:
        try:
            found += [link.text for link in find_links(fixed)]
        except LinkError as error:
            found.append(str(error))
    return found


def email_template_problems(*, body: str, html_body: str, subject: str) -> list[str]:
    """An email template's parts: valid tags, no more tags than the text part, no javascript: links."""
    labels = {"body": "Text part", "subject": "Subject", "html_body": "HTML part"}
    return [
        f"{labels[part]}: {message}"
        for part, message in email_template_field_problems(body=body, html_body=html_body, subject=subject)
    ]


def email_template_field_problems(*, body: str, html_body: str, subject: str) -> list[tuple[str, str]]:
    """(field, problem) for each part of an email template."""
    try:
        slots = len(parse_template(body).slots)
    except TemplateError as error:
        return [("body", f"{error}.")]
    problems = []
    for part, text in (("subject", subject), ("html_body", html_body)):
        if not text:
            continue
        try:
            used = len(parse_template(text).slots)
        except TemplateError as error:
            problems.append((part, f"{error}."))
            continue
        if used > slots:
            problems.append(
                (
                    part,
                    f"It has {used} variable(s) but the text part has {slots}; the n-th variable of every part takes "
                    f"the campaign's n-th value, so it may use at most {slots}.",
                )
            )
    for part, check in (("body", lambda: find_links(body)), ("html_body", lambda: rewrite_hrefs(html_body, str))):
        try:
            check()
        except LinkError as error:
            problems.append((part, f"{error}."))
    return problems
