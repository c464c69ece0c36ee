"""TRAI's rules for commercial SMS that the DLT scrubber does not check one message at a time.

- At least 30% of a template must be fixed text (TRAI, May 2023).
- A template with more than 3 variables needs a justification on the DLT portal.
- Only whitelisted URLs may appear in a message (TRAI, Aug 2024; operators block the others since 1 Oct 2024).
  A static URL is whitelisted exactly; a dynamic URL whitelists its fixed prefix; for short links the short domain
  is whitelisted, never each key. Public shorteners (bit.ly, tinyurl.com, ...) are not accepted at all.

Every check returns `Finding`s in a campaign manager's words: what is wrong, what operators will do, what to do.
A finding is `blocking` when operators would block the messages (launching is then refused); the others are
warnings. Only SMS is concerned: email has no DLT.
"""

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from campaigns.dlt.link_finding import LinkError, find_links
from campaigns.dlt.parsing import ParsedTemplate, TemplateError, parse_template, slot_limit
from campaigns.dlt.rendering import example_short_url, slot_value
from campaigns.models import Campaign, Channel, Customer, Org, Template, WhitelistedUrl

FIXED_SHARE_MIN_PERCENT = 30
VARIABLES_WITHOUT_JUSTIFICATION = 3
# Generic link shorteners operators refuse whatever the whitelist says. A brand's own short domain is not one.
_PUBLIC_SHORTENERS_TEXT = """
    bit.ly bitly.com tinyurl.com goo.gl t.co ow.ly is.gd v.gd buff.ly rebrand.ly cutt.ly shorturl.at rb.gy t.ly
    tiny.cc bl.ink s.id shorte.st adf.ly lnkd.in tiny.one surl.li clck.ru
"""
PUBLIC_SHORTENERS = frozenset(_PUBLIC_SHORTENERS_TEXT.split())
# Typed slots whose value is a link by definition.
LINK_SLOTS = ("url", "urlott")

WHITELIST_PAGE = "Templates › URL whitelist"


@dataclass(frozen=True)
class Finding:
    code: str  # fixed_share, variables, not_whitelisted, public_shortener, short_domain, no_whitelist
    message: str
    blocking: bool = False  # operators would block the messages

    def __str__(self) -> str:
        return self.message


# --- Fixed text and variables ----------------------------------------------------------------------------------


def fixed_text_share(parsed: ParsedTemplate, max_length: int | None = None) -> tuple[int, int]:
    """(characters of fixed text, characters of the longest message the template allows).

    How it is counted: every character of the fixed text (spaces and punctuation included) against the whole
    template with each variable counted at its limit (30 for `{#var#}` by default, 40 for `{#alphanumeric#}`):
    the share of fixed text in the longest message the template allows. TRAI does not publish the portals'
    exact count; counting variables at their limit is the strict reading, so a template this check accepts is not
    refused for its variables' share.
    """
    fixed = sum(len(piece) for piece in parsed.fixed)
    return fixed, fixed + sum(slot_limit(kind, max_length) for kind in parsed.slots)


def template_text_findings(parsed: ParsedTemplate, max_length: int | None = None) -> list[Finding]:
    """Fixed text under 30% of the template; more than 3 variables. Warnings: the DLT portal decides."""
    findings = []
    fixed, total = fixed_text_share(parsed, max_length)
    if total and fixed * 100 < FIXED_SHARE_MIN_PERCENT * total:
        slots = len(parsed.slots)
        findings.append(
            Finding(
                "fixed_share",
                f"Fixed text is {fixed * 100 // total}% of this template ({fixed} of {total} characters, counting "
                f"{'its variable' if slots == 1 else f'each of its {slots} variables'} at its "
                f"{'limit' if slots == 1 else 'limits'}). TRAI requires at least {FIXED_SHARE_MIN_PERCENT}% fixed "
                f"text, so the DLT portal may refuse to register it. Add fixed wording or use fewer variables.",
            )
        )
    if len(parsed.slots) > VARIABLES_WITHOUT_JUSTIFICATION:
        findings.append(
            Finding(
                "variables",
                f"This template has {len(parsed.slots)} variables. TRAI asks for a justification of every template "
                f"with more than {VARIABLES_WITHOUT_JUSTIFICATION}: give the reason on the DLT portal when you "
                f"register it, or it may be rejected.",
            )
        )
    return findings


# --- URLs and the whitelist -------------------------------------------------------------------------------------


def normalise_url(url: str) -> tuple[str, str]:
    """(host, rest) as the whitelist compares them: no scheme, host in lower case and ASCII (IDN), no `www.`,
    no default port; the rest (path, query, fragment) exactly as written."""
    text = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE)
    cut = min((index for index in (text.find(char) for char in "/?#") if index >= 0), default=len(text))
    host, rest = text[:cut].rsplit("@", 1)[-1], text[cut:]
    host = re.sub(r":(?:80|443)$", "", _ascii_host(host.lower()).rstrip("."))
    if host.startswith("www."):
        host = host[4:]
    return host, rest


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    name, _, port = host.partition(":")
    with contextlib.suppress(UnicodeError):  # not a valid IDN: compared as written
        name = name.encode("idna").decode("ascii")
    return f"{name}:{port}" if port else name


def without_trailing_slash(rest: str) -> str:
    if "?" in rest or "#" in rest:
        return rest
    return rest.rstrip("/")


def public_shortener(url: str) -> str | None:
    """The public shortener a link goes through (`bit.ly`), or None."""
    host, _ = normalise_url(url)
    host = host.split(":", 1)[0]
    return next((name for name in PUBLIC_SHORTENERS if host == name or host.endswith("." + name)), None)


@dataclass(frozen=True)
class _Entry:
    kind: str
    host: str
    rest: str


class Whitelist:
    """An org's whitelisted URLs, read once, answering whether a link is covered.

    Static: the same URL, ignoring the scheme, `www.`, the host's case and a trailing slash. Dynamic: the same host
    and a link that starts with the whitelisted path (and query). A short link is covered by a dynamic prefix of
    its short domain, or by a static entry that is the bare short domain, the way operators whitelist short
    domains.
    """

    def __init__(self, org: Org, urls: Iterable[tuple[str, str]]):
        self.org = org
        self.entries = [_Entry(kind, *normalise_url(url)) for url, kind in urls]

    @classmethod
    def for_org(cls, org: Org) -> "Whitelist":
        return cls(org, WhitelistedUrl.objects.filter(org=org).values_list("url", "kind"))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def covers(self, url: str) -> bool:
        host, rest = normalise_url(url)
        for entry in self.entries:
            if entry.host != host:
                continue
            same = without_trailing_slash(rest) == without_trailing_slash(entry.rest)
            if same or (entry.kind == WhitelistedUrl.Kind.DYNAMIC and rest.startswith(entry.rest)):
                return True
        return False

    def covers_short_link(self, url: str) -> bool:
        host, _ = normalise_url(url)
        return self.covers(url) or any(entry.host == host and entry.rest in ("", "/") for entry in self.entries)


def short_link_prefix(org: Org) -> str:
    """What the org's tracked links start with in a message (`s.cplry.com/`): the part to whitelist."""
    return example_short_url(org).rstrip("X")


def _not_whitelisted(org: Org, link: str, where: str) -> Finding:
    return Finding(
        "not_whitelisted",
        f"The link '{link}' ({where}) is not on {org.name}'s URL whitelist. Operators block messages with links "
        f"that are not whitelisted on DLT. Whitelist it on the DLT portal (as a static URL, or a dynamic URL whose "
        f"fixed part it starts with) and record it under {WHITELIST_PAGE}, or use a link that is whitelisted.",
        blocking=True,
    )


def _shortener(link: str, shortener: str, where: str) -> Finding:
    return Finding(
        "public_shortener",
        f"The link '{link}' ({where}) goes through {shortener}, a public link shortener. Operators block messages "
        f"with public shorteners such as bit.ly and tinyurl.com, and they cannot be whitelisted. Use the full link "
        f"(whitelisted on DLT), or put it in a variable with link tracking on, so it goes out on your own short "
        f"domain.",
        blocking=True,
    )


def _short_domain_finding(org: Org, *, blocking: bool) -> Finding:
    prefix = short_link_prefix(org)
    shortener = public_shortener(prefix)
    if shortener:
        return Finding(
            "short_domain",
            f"Tracked links go out on {shortener}, a public link shortener: operators block such messages. Give "
            f"{org.name} a short domain of its own (support staff set it), whitelisted on DLT.",
            blocking=blocking,
        )
    when = "go out" if org.sms_link_tracking else "would go out (if link tracking were switched on)"
    effect = "block" if org.sms_link_tracking else "would block"
    return Finding(
        "short_domain",
        f"Tracked links {when} as '{prefix}…', and '{prefix}' is not on {org.name}'s URL whitelist: operators "
        f"{effect} every message with a tracked link. Whitelist '{prefix}' on the DLT portal as a dynamic URL "
        f"(under each header that sends tracked links) and record it under {WHITELIST_PAGE}.",
        blocking=blocking,
    )


def _no_whitelist(org: Org) -> Finding:
    return Finding(
        "no_whitelist",
        f"{org.name} has not recorded its DLT URL whitelist, so links cannot be checked. Operators block messages "
        f"with links that are not whitelisted on DLT: record the whitelisted URLs under {WHITELIST_PAGE} to have "
        f"every link checked before sending.",
    )


@dataclass(frozen=True)
class _Link:
    text: str
    where: str
    certain: bool  # in every message (fixed text, a text or link value), not only the sample customer's


def _links_in(text: str) -> list[str]:
    try:
        return [link.text for link in find_links(text)]
    except LinkError:
        return []  # a javascript: or data: link is refused by the DLT checks, in its own words


def _url_findings(
    org: Org,
    whitelist: Whitelist,
    links: list[_Link],
    *,
    short_link: bool = False,
    short_link_certain: bool = False,
    unknown_links: bool = False,
) -> list[Finding]:
    """Each link against the whitelist, the short domain when a tracked link goes out, and, when nothing is
    recorded, one note instead of a finding per link. `unknown_links`: the messages carry links not known yet
    (a `{#url#}` value), so the note is due even without a link to name."""
    findings = []
    for link in links:
        shortener = public_shortener(link.text)
        if shortener:
            findings.append(_shortener(link.text, shortener, link.where))
        elif whitelist and not whitelist.covers(link.text):
            finding = _not_whitelisted(org, link.text, link.where)
            findings.append(finding if link.certain else Finding(finding.code, finding.message))
    if short_link and whitelist and not whitelist.covers_short_link(example_short_url(org)):
        findings.append(_short_domain_finding(org, blocking=short_link_certain))
    if not whitelist and (links or short_link or unknown_links):
        findings.append(_no_whitelist(org))
    return findings


def _fixed_links(org: Org, parsed: ParsedTemplate) -> list[_Link]:
    """Links in the fixed text. With tracking on they are refused outright (see rendering), so not listed twice."""
    if org.sms_link_tracking:
        return []
    return [_Link(text, "in the template's fixed text", True) for fixed in parsed.fixed for text in _links_in(fixed)]


def template_findings(
    *, org: Org, body: str, channel: str = Channel.SMS, whitelist: Whitelist | None = None
) -> list[Finding]:
    """What TRAI's rules say about an SMS template: fixed-text share, number of variables, the links of its fixed
    text, and the short domain when a `{#url#}` variable will carry a tracked link. Empty for email, or for a body
    that does not parse (its own error says why)."""
    if channel != Channel.SMS:
        return []
    try:
        parsed = parse_template(body)
    except TemplateError:
        return []
    whitelist = Whitelist.for_org(org) if whitelist is None else whitelist
    link_slot = any(kind in LINK_SLOTS for kind in parsed.slots)
    return template_text_findings(parsed) + _url_findings(
        org,
        whitelist,
        _fixed_links(org, parsed),
        short_link=link_slot and org.sms_link_tracking,
        short_link_certain=True,
        unknown_links=link_slot,
    )


def campaign_findings(
    *,
    org: Org,
    template: Template,
    slot_values: list[dict],
    whitelist: Whitelist | None = None,
    customer: Customer | None = None,
) -> list[Finding]:
    """What TRAI's rules say about the messages of a campaign: the template's findings, then every link a message
    would carry. With tracking on, links in values go out as the org's short domain, so that is what must be
    whitelisted; with it off, each link itself. Values read from customer fields differ per customer: they are
    checked for `customer` (the preview's sample) and never block, since other customers' values may differ."""
    if template.channel != Channel.SMS:
        return []
    try:
        parsed = parse_template(template.body)
    except TemplateError:
        return []
    if len(parsed.slots) != len(slot_values):
        return []  # the DLT checks say so
    whitelist = Whitelist.for_org(org) if whitelist is None else whitelist
    links = _fixed_links(org, parsed)
    short_link = short_link_certain = unknown_links = False
    for number, (kind, slot) in enumerate(zip(parsed.slots, slot_values, strict=True), start=1):
        from_customer = slot.get("source") == "field"
        if from_customer and kind in LINK_SLOTS and org.sms_link_tracking:
            short_link = short_link_certain = True  # a {#url#} value is a link whatever the customer
        if from_customer and customer is None:
            unknown_links = unknown_links or kind in LINK_SLOTS  # known only per customer
            continue
        found = _links_in(slot_value(slot, customer) if from_customer else slot.get("value", ""))
        if found and org.sms_link_tracking:
            short_link = True
            short_link_certain = short_link_certain or not from_customer
        elif found:
            where = f"variable {number}" + (f", for {customer}" if from_customer else "")
            links += [_Link(text, where, not from_customer) for text in found]
    return template_text_findings(parsed) + _url_findings(
        org,
        whitelist,
        links,
        short_link=short_link,
        short_link_certain=short_link_certain,
        unknown_links=unknown_links,
    )


def campaign_refusals(*, campaign: Campaign) -> list[Finding]:
    """Why operators would block this campaign's messages for their links; launching is refused for these."""
    return [
        finding
        for finding in campaign_findings(org=campaign.org, template=campaign.template, slot_values=campaign.slot_values)
        if finding.blocking
    ]


def campaign_launch_warnings(*, campaign: Campaign) -> list[str]:
    """What a manager should hear when launching: the links could not be checked (no whitelist recorded)."""
    return [
        finding.message
        for finding in campaign_findings(org=campaign.org, template=campaign.template, slot_values=campaign.slot_values)
        if finding.code == "no_whitelist"
    ]


def org_findings(*, org: Org, whitelist: Whitelist | None = None) -> list[Finding]:
    """The org as a whole: whether its whitelist is recorded, and whether its short domain is on it (a warning
    even with tracking off, so support staff know before switching tracking on)."""
    whitelist = Whitelist.for_org(org) if whitelist is None else whitelist
    if not whitelist:
        return [_no_whitelist(org)]
    if whitelist.covers_short_link(example_short_url(org)) and not public_shortener(short_link_prefix(org)):
        return []
    return [_short_domain_finding(org, blocking=org.sms_link_tracking)]
