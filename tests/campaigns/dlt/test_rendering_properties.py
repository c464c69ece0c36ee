"""Property tests of rendering: whatever a template body, a slot value or a customer's attribute holds, rendering
an SMS or an email either gives a message or refuses it with the project's own reason (RenderRefused, LinkError,
TemplateError): never another exception, which would stop a whole campaign."""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.dlt.link_finding import LinkError, find_links
from campaigns.dlt.parsing import SLOT_KINDS, TemplateError, parse_template
from campaigns.dlt.rendering import (
    RenderRefused,
    SmsCampaignRendering,
    campaign_problems,
    email_destinations,
    email_template_field_problems,
    fill_email,
    render_sms,
    rewrite_email,
    slot_value,
)
from campaigns.models import Channel, Customer, Org

SHORT = "s.cplry.com/ABCDEFGHJK"
# Text of every kind: control characters, the C1 range, spaces of other widths, Devanagari, emoji, braces and hashes.
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
TAGS = [f"{{#{kind}#}}" for kind in SLOT_KINDS]
LOOKALIKES = ["{#var1#}", "{#VAR#}", "{# var #}", "##var##", "{var}", "{#", "#}", "{", "}", "#"]
SCHEMES = ["", "http://", "https://", "HTTPS://", "www.", "javascript:", "data:text/html,", "ftp://", "http://u@"]
HOSTS = ["acme.in", "b\x80d.in", "[1", "[::1]", "उदाहरण.भारत", "xn--.in", "a..in", "localhost", ".in", "1.2.3.4"]
ENDINGS = ["", "/", "/p?q=1#x", ":80", ":99999", ":0/x", ")", ".", "/%zz", "/\x00"]
LINKISH = st.builds(
    lambda scheme, host, ending, text: scheme + host + ending + text,
    st.sampled_from(SCHEMES),
    st.one_of(st.sampled_from(HOSTS), ANY_TEXT),
    st.sampled_from(ENDINGS),
    st.one_of(st.just(""), ANY_TEXT),
)
VALUES = st.one_of(ANY_TEXT, LINKISH)
BODIES = st.lists(st.one_of(st.sampled_from(TAGS + LOOKALIKES), ANY_TEXT, LINKISH), max_size=8).map("".join)
HTML = st.lists(
    st.one_of(
        st.builds(lambda url, quote: f"<a href={quote}{url}{quote}>x</a>", VALUES, st.sampled_from(['"', "'", ""])),
        st.sampled_from(["{#var#}", "<p>", "&amp;", "&#0;", "&#x110000;"]),
        ANY_TEXT,
    ),
    max_size=6,
).map("".join)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _slots(parsed, values: list[str]) -> list[str]:
    return (values + [""] * len(parsed.slots))[: len(parsed.slots)]


@FAST
@given(body=BODIES, values=st.lists(VALUES, max_size=6), tracking=st.booleans())
@example(body="Visit {#var#}", values=["https://b\x80d.in/"], tracking=True)
@example(body="Visit {#var#}", values=["https://[1"], tracking=True)
@example(body="Visit {#url#}", values=["http://acme.in:99999/"], tracking=True)
def test_an_sms_is_rendered_or_refused_with_a_reason(body, values, tracking):
    try:
        parsed = parse_template(body)
    except TemplateError:
        return
    try:
        message = render_sms(
            parsed=parsed,
            values=_slots(parsed, values),
            tracking=tracking,
            short_url_for=lambda _: SHORT,
            max_length=30,
        )
    except RenderRefused as refused:
        assert refused.reason_code and str(refused)
        return
    assert parsed.matches(message, 30)


def _outcome(render):
    try:
        return render()
    except RenderRefused as refused:
        return (refused.reason_code, str(refused))


@FAST
@given(
    body=BODIES,
    slots=st.lists(st.tuples(st.sampled_from(["text", "url", "field"]), VALUES), max_size=6),
    name=VALUES,
    tracking=st.booleans(),
)
@example(body="Hi {#var#}, {#var#}", slots=[("field", ""), ("url", "javascript:x")], name="Asha  B", tracking=True)
@example(body="Hi {#var#} {#url#}", slots=[("text", "www.acme.in a.in/x"), ("url", "x")], name="", tracking=True)
def test_a_campaigns_sms_is_rendered_or_refused_exactly_as_render_sms_renders_or_refuses_it(
    body, slots, name, tracking
):
    # given a template, a campaign's values (fixed text, links, the customer's name with a fallback) and a
    # customer whose name holds anything
    try:
        parsed = parse_template(body)
    except TemplateError:
        return
    slots = (slots + [("text", "")] * len(parsed.slots))[: len(parsed.slots)]
    slot_values = [
        {"source": "field", "value": "name", "fallback": value}
        if source == "field"
        else {"source": source, "value": value}
        for source, value in slots
    ]
    customer = Customer(name=name, mobile="+919876543210")
    values = [slot_value(slot, customer) for slot in slot_values]

    def short_url_for(destination):
        return f"{SHORT}{len(destination) % 10}"

    # when the campaign's rendering renders it, then the message (or the refusal, reason and words) is render_sms's
    rendering = SmsCampaignRendering(parsed=parsed, slot_values=slot_values, tracking=tracking, max_length=30)
    assert _outcome(lambda: rendering.render(customer, short_url_for)) == _outcome(
        lambda: render_sms(parsed=parsed, values=values, tracking=tracking, short_url_for=short_url_for, max_length=30)
    )
    # and the destinations to mint are those of every value whose links can be sent
    destinations = set()
    for value in values:
        try:
            destinations.update(link.destination for link in find_links(value))
        except LinkError:
            continue
    assert rendering.destinations([customer]) == destinations


@FAST
@given(subject=BODIES, body=BODIES, html_body=HTML, values=st.lists(VALUES, max_size=6), tracking=st.booleans())
@example(subject="", body="{#var#}", html_body='<a href="{#var#}">x</a>', values=["https://[1"], tracking=True)
@example(subject="", body="{#var#}", html_body="", values=["https://b\x80d.in/"], tracking=True)
def test_an_email_is_rendered_or_refused_with_a_reason(subject, body, html_body, values, tracking):
    if email_template_field_problems(body=body, html_body=html_body, subject=subject):
        return  # such a template is never saved, so never rendered
    try:
        # A campaign has as many values as its text part has variables (campaign_problems sees to it).
        values = _slots(parse_template(body), values)
        parts = fill_email(subject=subject, body=body, html_body=html_body, values=values)
        if tracking:
            email_destinations(parts)
        rewrite_email(parts, tracking=tracking, short_url_for=lambda _: "https://" + SHORT)
    except (LinkError, TemplateError):
        return


@FAST
@given(attributes=st.dictionaries(ANY_TEXT, st.one_of(VALUES, st.integers(), st.none(), st.booleans())), key=ANY_TEXT)
def test_a_customer_field_gives_single_spaced_text_whatever_the_attribute_holds(attributes, key):
    customer = Customer(name="Asha", mobile="+919876543210", attributes=attributes)
    value = slot_value({"source": "field", "value": key}, customer)
    assert isinstance(value, str) and "  " not in value and value == value.strip()


@FAST
@given(
    body=BODIES, values=st.lists(VALUES, max_size=6), channel=st.sampled_from(Channel.values), tracking=st.booleans()
)
@example(body="Visit {#var#}", values=["https://b\x80d.in/"], channel=Channel.SMS, tracking=True)
@example(body="Visit {#var#}", values=["https://[1"], channel=Channel.SMS, tracking=True)
def test_a_campaigns_values_are_checked_in_words_before_it_is_saved(body, values, channel, tracking):
    org = Org(name="Acme Retail", sms_link_tracking=tracking, short_domain="s.cplry.com")
    slot_values = [{"source": "text", "value": value} for value in values]
    problems = campaign_problems(org=org, body=body, slot_values=slot_values, channel=channel)
    assert all(str(problem) for problem in problems)
