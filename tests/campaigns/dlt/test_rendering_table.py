"""The rendering table: a template, its slot values and the org's tracking state, with the exact message that
would be sent (and the destinations its short links point to) or the exact errors a campaign manager sees."""

import pytest

from campaigns.dlt.parsing import parse_template
from campaigns.dlt.rendering import campaign_problems, render_sms
from campaigns.models import Org
from linktrack.services import short_url

L1 = "s.cplry.com/VEK8VHGBKQ"  # short link 1, message 42, test salt
L2 = "s.cplry.com/VPDE5TN8XL"  # short link 2, message 42, test salt
ON, OFF = True, False
FIXED_LINK = (
    "The link '{}' is in the fixed text of the template, outside a {{#var#}} variable. With link tracking on, links "
    "are replaced by short links, and a changed fixed text no longer matches the DLT template, so operators would "
    "block every message. Move the link into a {{#var#}} variable."
)
TOO_LONG = (
    "Variable {}: This value is {} characters{} ('{}'); DLT allows at most 30 per variable, so operators would "
    "block the message. Shorten it or split it over two variables."
)
LOOKALIKE = (
    "The template is not a valid DLT template: '{}' looks like a variable but is not one: write {{#var#}} exactly, in "
    "lower case with no spaces or numbers (or a typed tag: {{#numeric#}}, {{#alphanumeric#}}, {{#url#}}, "
    "{{#urlott#}}, {{#cbn#}}, {{#email#}}) (at character {})."
)
EXAMPLE = "s.cplry.com/XXXXXXXXXX"
HINDI = "नमस्ते {#var#}, आपका ऑर्डर भेज दिया गया है। ट्रैक करें: {#var#}"

# (case id, template body, slot values, tracking, variable limit, expected)
# expected: (message, [destinations of its short links]) or [errors]
CASES = [
    # links without a scheme
    (
        "www-on",
        "Hi {#var#}, track: {#var#}",
        ["Asha", "www.google.com"],
        ON,
        30,
        (f"Hi Asha, track: {L1}", ["https://www.google.com"]),
    ),
    (
        "www-off",
        "Hi {#var#}, track: {#var#}",
        ["Asha", "www.google.com"],
        OFF,
        30,
        ("Hi Asha, track: www.google.com", []),
    ),
    (
        "bare-domain-with-path",
        "Track: {#var#}",
        ["example.in/p/1"],
        ON,
        30,
        (f"Track: {L1}", ["https://example.in/p/1"]),
    ),
    ("bare-domain-in-capitals", "Track: {#var#}", ["ACME.IN"], ON, 30, (f"Track: {L1}", ["https://ACME.IN"])),
    # links with a scheme; query and fragment kept
    (
        "https-query-fragment",
        "Sale: {#var#}",
        ["https://shop.example.in/sale?utm_source=sms&x=1#top"],
        ON,
        30,
        (f"Sale: {L1}", ["https://shop.example.in/sale?utm_source=sms&x=1#top"]),
    ),
    (
        "https-too-long-without-tracking",
        "Sale: {#var#}",
        ["https://shop.example.in/sale?utm_source=sms&x=1#top"],
        OFF,
        30,
        [TOO_LONG.format(1, 51, "", "https://shop.example.in/sale?utm_source=sms&x=1#top")],
    ),
    ("http-scheme-kept", "Go {#var#}", ["http://acme.in"], ON, 30, (f"Go {L1}", ["http://acme.in"])),
    # ports
    ("bare-domain-with-port", "Go {#var#}", ["acme.in:8080/p"], ON, 30, (f"Go {L1}", ["https://acme.in:8080/p"])),
    (
        "ip-and-port-with-scheme",
        "Go {#var#}",
        ["http://127.0.0.1:8000/x"],
        ON,
        30,
        (f"Go {L1}", ["http://127.0.0.1:8000/x"]),
    ),
    ("localhost-without-scheme-is-text", "Go {#var#}", ["localhost:8000"], ON, 30, ("Go localhost:8000", [])),
    # IDN domains
    (
        "idn-devanagari",
        "Go {#var#}",
        ["उदाहरण.भारत/सेल"],
        ON,
        30,
        (f"Go {L1}", ["https://xn--p1b6ci4b4b3a.xn--h2brj9c/सेल"]),
    ),
    ("idn-latin", "Go {#var#}", ["https://bücher.de/x"], ON, 30, (f"Go {L1}", ["https://xn--bcher-kva.de/x"])),
    ("idn-without-tracking", "Go {#var#}", ["उदाहरण.भारत/सेल"], OFF, 30, ("Go उदाहरण.भारत/सेल", [])),
    # punctuation around a link
    ("sentence-full-stop", "Hi {#var#}", ["Visit www.x.com."], ON, 30, (f"Hi Visit {L1}.", ["https://www.x.com"])),
    ("in-brackets", "Hi {#var#}", ["(www.x.com)"], ON, 30, (f"Hi ({L1})", ["https://www.x.com"])),
    ("balanced-brackets-in-path", "Hi {#var#}", ["www.x.com/a_(b)"], ON, 30, (f"Hi {L1}", ["https://www.x.com/a_(b)"])),
    ("exclamation", "Hi {#var#}", ["acme.in/sale!"], ON, 30, (f"Hi {L1}!", ["https://acme.in/sale"])),
    ("comma-after", "Hi {#var#}", ["acme.in, now"], ON, 30, (f"Hi {L1}, now", ["https://acme.in"])),
    ("smart-quotes", "Hi {#var#}", ["“acme.in”"], ON, 30, (f"Hi “{L1}”", ["https://acme.in"])),
    ("angle-brackets", "Hi {#var#}", ["<https://acme.in>"], ON, 30, (f"Hi <{L1}>", ["https://acme.in"])),
    ("hindi-danda", "देखें {#var#}", ["acme.in/sale।"], ON, 30, (f"देखें {L1}।", ["https://acme.in/sale"])),
    # two links in one slot
    (
        "two-links-too-long-after-rewriting",
        "Hi {#var#}",
        ["a.com b.in"],
        ON,
        30,
        [TOO_LONG.format(1, 45, " after its link is shortened", f"{EXAMPLE} {EXAMPLE}")],
    ),
    (
        "two-links-with-a-40-limit-too-long",
        "Hi {#var#}",
        ["a.com b.in"],
        ON,
        40,
        [TOO_LONG.format(1, 45, " after its link is shortened", f"{EXAMPLE} {EXAMPLE}").replace("most 30", "most 40")],
    ),
    (
        "two-links-fit-a-larger-limit",
        "Hi {#var#}",
        ["a.com b.in"],
        ON,
        50,
        (f"Hi {L1} {L2}", ["https://a.com", "https://b.in"]),
    ),
    ("same-link-twice", "Hi {#var#}", ["a.com a.com"], ON, 50, (f"Hi {L1} {L1}", ["https://a.com"])),
    (
        "links-in-two-slots",
        "{#var#} or {#var#}",
        ["acme.in/a", "acme.in/b"],
        ON,
        30,
        (f"{L1} or {L2}", ["https://acme.in/a", "https://acme.in/b"]),
    ),
    # links in the fixed text
    (
        "fixed-link-refused-with-tracking",
        "Sale at www.acme.in/sale, {#var#}",
        ["Asha"],
        ON,
        30,
        [FIXED_LINK.format("www.acme.in/sale")],
    ),
    (
        "fixed-link-fine-without-tracking",
        "Sale at www.acme.in/sale, {#var#}",
        ["Asha"],
        OFF,
        30,
        ("Sale at www.acme.in/sale, Asha", []),
    ),
    (
        "two-fixed-links",
        "Visit acme.in or https://acme.co/x {#var#}",
        ["now"],
        ON,
        30,
        [FIXED_LINK.format("acme.in"), FIXED_LINK.format("https://acme.co/x")],
    ),
    (
        "fixed-javascript-refused-even-without-tracking",
        "javascript:alert(1) {#var#}",
        ["x"],
        OFF,
        30,
        [
            "'javascript:' links are not allowed: only http and https links can be sent and tracked "
            "(found at character 1)."
        ],
    ),
    # text that is not a link
    (
        "mr-sharma-rs-500",
        "Dear {#var#}, pay {#var#}",
        ["Mr.Sharma", "Rs.500 today"],
        ON,
        30,
        ("Dear Mr.Sharma, pay Rs.500 today", []),
    ),
    (
        "versions-and-abbreviations",
        "Note: {#var#}",
        ["v1.2 e.g. i.e. ok.so"],
        ON,
        30,
        ("Note: v1.2 e.g. i.e. ok.so", []),
    ),
    ("email-address-is-not-a-link", "Write to {#var#}", ["help@acme.in"], ON, 30, ("Write to help@acme.in", [])),
    # unsafe schemes in a slot
    (
        "javascript-in-slot",
        "Hi {#var#}",
        ["javascript:alert(1)"],
        ON,
        30,
        [
            "Variable 1: 'javascript:' links are not allowed: only http and https links can be sent and tracked "
            "(found at character 1)."
        ],
    ),
    (
        "data-in-slot",
        "Hi {#var#}",
        ["data:text/html,<b>"],
        OFF,
        30,
        [
            "Variable 1: 'data:' links are not allowed: only http and https links can be sent and tracked "
            "(found at character 1)."
        ],
    ),
    (
        "ftp-in-slot",
        "Hi {#var#}",
        ["ftp://files.acme.in"],
        ON,
        30,
        [
            "Variable 1: 'ftp://files.acme.in' is not a web link: only http and https links are allowed "
            "(found at character 1)."
        ],
    ),
    # malformed tags
    ("numbered-var", "Hi {#var1#}, bye", ["x"], ON, 30, [LOOKALIKE.format("{#var1#}", 4)]),
    ("capital-var", "Hi {#VAR#}", ["x"], ON, 30, [LOOKALIKE.format("{#VAR#}", 4)]),
    ("spaces-in-var", "Hi {# var #}", ["x"], ON, 30, [LOOKALIKE.format("{# var #}", 4)]),
    ("hash-var", "Hi {#var#} and ##var##", ["x"], ON, 30, [LOOKALIKE.format("##var##", 16)]),
    (
        "unclosed-brace",
        "Offer {#var#} ends {today",
        ["x"],
        ON,
        30,
        ["The template is not a valid DLT template: '{' is opened and never closed (at character 20)."],
    ),
    (
        "stray-closing-brace",
        "Offer} {#var#}",
        ["x"],
        ON,
        30,
        ["The template is not a valid DLT template: '}' closes a brace that was never opened (at character 6)."],
    ),
    (
        "wrong-number-of-values",
        "Hi {#var#} {#var#}",
        ["x"],
        ON,
        30,
        ["The template has 2 variable(s) but 1 value(s) were given."],
    ),
    # typed tags (2026)
    (
        "numeric-with-letters",
        "OTP {#numeric#}",
        ["12ab"],
        ON,
        30,
        ["Variable 1: '12ab' does not fit this variable: a {#numeric#} variable takes digits only."],
    ),
    ("numeric-digits", "OTP {#numeric#}", ["482913"], ON, 30, ("OTP 482913", [])),
    ("url-tag-rewritten", "Track {#url#}", ["www.acme.in/sale"], ON, 30, (f"Track {L1}", ["https://www.acme.in/sale"])),
    (
        "url-tag-with-words",
        "Track {#url#}",
        ["see www.acme.in"],
        ON,
        30,
        ["Variable 1: 'see www.acme.in' does not fit this variable: a {#url#} variable takes one web link."],
    ),
    (
        "alphanumeric-up-to-40",
        "Code {#alphanumeric#}",
        ["ABCDEFGHIJ0123456789ABCDEFGHIJ01234"],
        ON,
        30,
        ("Code ABCDEFGHIJ0123456789ABCDEFGHIJ01234", []),
    ),
    (
        "alphanumeric-with-space",
        "Code {#alphanumeric#}",
        ["ABC 12"],
        ON,
        30,
        [
            "Variable 1: 'ABC 12' does not fit this variable: a {#alphanumeric#} variable takes letters A-Z and digits "
            "only."
        ],
    ),
    ("cbn", "Call {#cbn#}", ["+91 98765-43210"], ON, 30, ("Call +91 98765-43210", [])),
    (
        "email-tag",
        "Mail {#email#}",
        ["not-an-email"],
        ON,
        30,
        ["Variable 1: 'not-an-email' does not fit this variable: a {#email#} variable takes one email address."],
    ),
    # Unicode (Hindi) bodies
    (
        "hindi-body-tracking",
        HINDI,
        ["आशा", "www.acme.in/t/1"],
        ON,
        30,
        (f"नमस्ते आशा, आपका ऑर्डर भेज दिया गया है। ट्रैक करें: {L1}", ["https://www.acme.in/t/1"]),
    ),
    ("hindi-value-too-long", HINDI, ["आ" * 31, "x"], ON, 30, [TOO_LONG.format(1, 31, "", "आ" * 31)]),
    # the variable limit after rewriting
    ("exactly-30", "Hi {#var#}", ["a" * 30], ON, 30, ("Hi " + "a" * 30, [])),
    ("31-is-too-long", "Hi {#var#}", ["a" * 31], OFF, 30, [TOO_LONG.format(1, 31, "", "a" * 31)]),
    (
        "fits-before-but-not-after-rewriting",
        "Hi {#var#}",
        ["Buy now at acme.in/p1"],
        ON,
        30,
        [TOO_LONG.format(1, 33, " after its link is shortened", f"Buy now at {EXAMPLE}")],
    ),
    ("fits-without-tracking", "Hi {#var#}", ["Buy now at acme.in/p1"], OFF, 30, ("Hi Buy now at acme.in/p1", [])),
    # double spaces: DLT scrubbers reject them
    (
        "double-space-in-a-value",
        "Hi {#var#}",
        ["Asha  Rao"],
        ON,
        30,
        ["Variable 1: This value has two spaces in a row; DLT scrubbers reject such messages. Use single spaces."],
    ),
    ("double-space-in-the-template-is-kept", "Hi  {#var#}", ["Asha"], ON, 30, ("Hi  Asha", [])),
    # regex metacharacters in the fixed text are matched literally
    (
        "metacharacters",
        "Price (Rs.) *{#var#}* [50% off] $ ^ . + ?",
        ["99"],
        ON,
        30,
        ("Price (Rs.) *99* [50% off] $ ^ . + ?", []),
    ),
]


@pytest.fixture(autouse=True)
def _test_salt(settings):
    settings.HASHIDS_SALT = "linktrack-test-salt"
    settings.SHORT_LINK_SHOW_SCHEME = False


def outcome(body: str, values: list[str], tracking: bool):
    """What saving then sending would give: the errors shown on save, else the message and its destinations."""
    org = Org(name="Acme", sms_link_tracking=tracking, short_domain="s.cplry.com")
    problems = campaign_problems(org=org, body=body, slot_values=[{"source": "text", "value": v} for v in values])
    if problems:
        return [str(problem) for problem in problems]
    minted: dict[str, int] = {}

    def short_url_for(destination: str) -> str:
        minted.setdefault(destination, len(minted) + 1)
        return short_url(org=org, short_link_id=minted[destination], message_id=42)

    message = render_sms(parsed=parse_template(body), values=values, tracking=tracking, short_url_for=short_url_for)
    return message, list(minted)


def test_the_table_has_at_least_40_cases():
    assert len(CASES) >= 40 and len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("body", "values", "tracking", "limit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_template_and_values_render_exactly(body, values, tracking, limit, expected, settings):
    # given a template, slot values, the org's tracking state and the DLT variable limit
    settings.DLT_VARIABLE_MAX_LENGTH = limit
    # when the campaign is saved and its message rendered
    result = outcome(body, values, tracking)
    # then the message (and where its short links lead) or the errors are exactly as expected
    assert result == expected
    if isinstance(expected, tuple):
        assert parse_template(body).matches(expected[0])
