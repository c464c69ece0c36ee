"""TRAI's template rules: fixed-text share, number of variables, whitelisted URLs, public shorteners, short domain."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.dlt import trai, url_whitelist
from campaigns.dlt.parsing import parse_template
from campaigns.models import Customer, Org, Template, WhitelistedUrl

STATIC, DYNAMIC = WhitelistedUrl.Kind.STATIC, WhitelistedUrl.Kind.DYNAMIC


def _codes(findings) -> list[tuple[str, bool]]:
    return [(finding.code, finding.blocking) for finding in findings]


# --- Fixed text share -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, max_length, fixed, total, warned",
    [
        ("Go {#var#}", 30, 3, 33, True),
        ("x" * 12 + "{#var#}", 30, 12, 42, True),  # 28.6%
        ("x" * 13 + "{#var#}", 30, 13, 43, False),  # 30.2%
        ("x" * 25 + "{#var#}{#var#}", 30, 25, 85, True),  # 29.4%
        ("x" * 26 + "{#var#}{#var#}", 30, 26, 86, False),  # 30.2%
        ("x" * 30 + "{#var#}{#var#}", 35, 30, 100, False),  # exactly 30%: allowed
        ("x" * 29 + "{#var#}{#var#}", 35, 29, 99, True),
        ("x" * 17 + "{#alphanumeric#}", 30, 17, 57, True),  # alphanumeric counted at its 40
        ("x" * 18 + "{#alphanumeric#}", 30, 18, 58, False),
        ("Thank you for shopping with Acme", 30, 32, 32, False),  # no variable at all
        ("{#var#}", 30, 0, 30, True),
    ],
)
def test_fixed_text_share_counts_each_variable_at_its_limit(body, max_length, fixed, total, warned):
    parsed = parse_template(body)
    assert trai.fixed_text_share(parsed, max_length) == (fixed, total)
    findings = trai.template_text_findings(parsed, max_length)
    assert ("fixed_share" in [f.code for f in findings]) is warned


def test_fixed_share_warning_says_the_figures_and_what_to_do():
    (finding,) = trai.template_text_findings(parse_template("x" * 12 + "{#var#}"), 30)
    assert finding.message == (
        "Fixed text is 28% of this template (12 of 42 characters, counting its variable at its limit). TRAI requires "
        "at least 30% fixed text, so the DLT portal may refuse to register it. Add fixed wording or use fewer "
        "variables."
    )
    assert not finding.blocking


def test_fixed_share_follows_the_variable_length_setting(settings):
    parsed = parse_template("x" * 13 + "{#var#}")
    settings.DLT_VARIABLE_MAX_LENGTH = 40  # some operators allow 40: 13 of 53 is under 30%
    assert [f.code for f in trai.template_text_findings(parsed)] == ["fixed_share"]
    settings.DLT_VARIABLE_MAX_LENGTH = 30
    assert trai.template_text_findings(parsed) == []


# --- Number of variables -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("variables, warned", [(1, False), (3, False), (4, True), (6, True)])
def test_more_than_three_variables_needs_a_justification(variables, warned):
    body = "Dear customer, " + " and ".join(["{#var#}"] * variables) + " " + "x" * 200
    findings = trai.template_text_findings(parse_template(body), 30)
    assert ("variables" in [f.code for f in findings]) is warned
    if warned:
        assert findings[-1].message.startswith(
            f"This template has {variables} variables. TRAI asks for a justification"
        )


# --- Whitelist matching -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry, kind, url, covered",
    [
        # static: the same link, whatever the scheme, www., host case or trailing slash
        ("https://www.acme.in/sale", STATIC, "https://www.acme.in/sale", True),
        ("https://www.acme.in/sale", STATIC, "acme.in/sale", True),
        ("https://www.acme.in/sale", STATIC, "http://acme.in/sale/", True),
        ("https://www.acme.in/sale", STATIC, "WWW.ACME.IN/sale", True),
        ("acme.in/sale/", STATIC, "https://www.acme.in/sale", True),
        ("https://acme.in", STATIC, "acme.in/", True),
        # ... but not another path, case, query, host or a look-alike host
        ("https://www.acme.in/sale", STATIC, "acme.in/sale/2", False),
        ("https://www.acme.in/sale", STATIC, "acme.in/Sale", False),
        ("https://www.acme.in/sale", STATIC, "acme.in/sale?utm=sms", False),
        ("https://www.acme.in/sale", STATIC, "shop.acme.in/sale", False),
        ("https://www.acme.in/sale", STATIC, "acme.in.example.com/sale", False),
        ("https://acme.in", STATIC, "acme.in/sale", False),
        # dynamic: every link that starts with the whitelisted prefix, on the same host
        ("https://acme.in/order?id=", DYNAMIC, "https://acme.in/order?id=42", True),
        ("https://acme.in/order?id=", DYNAMIC, "www.acme.in/order?id=", True),
        ("https://acme.in/order?id=", DYNAMIC, "http://ACME.in/order?id=7", True),
        ("https://acme.in/order?id=", DYNAMIC, "acme.in/order?ref=1", False),
        ("https://acme.in/order?id=", DYNAMIC, "acme.in/orders", False),
        ("https://acme.in/order?id=", DYNAMIC, "evil.in/order?id=1", False),
        ("https://acme.in/offers/", DYNAMIC, "acme.in/offers", True),
        ("https://acme.in/offers/", DYNAMIC, "acme.in/offers/diwali?x=1", True),
        ("s.cplry.com/", DYNAMIC, "s.cplry.com/7383936D89", True),
        ("https://s.cplry.com", DYNAMIC, "s.cplry.com/7383936D89", True),
        ("s.cplry.com/", DYNAMIC, "x.cplry.com/7383936D89", False),
        ("127.0.0.1:8000/s/", DYNAMIC, "127.0.0.1:8000/s/ABCDEFGHIJ", True),
        ("127.0.0.1:8000/s/", DYNAMIC, "127.0.0.1:9000/s/ABCDEFGHIJ", False),
        ("https://acme.in:443/p", STATIC, "acme.in/p", True),
        # IDN: written in its script or in ASCII (punycode), the same host
        ("https://उदाहरण.भारत/sale", STATIC, "xn--p1b6ci4b4b3a.xn--h2brj9c/sale", True),
        ("www.xn--p1b6ci4b4b3a.xn--h2brj9c/", DYNAMIC, "http://उदाहरण.भारत/sale/1", True),
        ("https://उदाहरण.भारत/sale", STATIC, "उदाहरण.भारत/other", False),
    ],
)
def test_whitelist_covers(entry, kind, url, covered):
    whitelist = trai.Whitelist(Org(name="Acme"), [(entry, kind)])
    assert whitelist.covers(url) is covered


@pytest.mark.parametrize(
    "entry, kind, covered",
    [
        ("s.cplry.com/", DYNAMIC, True),
        ("s.cplry.com", STATIC, True),  # the bare short domain, as operators whitelist it
        ("https://www.s.cplry.com/", STATIC, True),
        ("s.cplry.com/DEMOBR/", DYNAMIC, False),  # a header prefix the links do not carry
        ("s.cplry.com/1111111111", STATIC, False),  # one key does not cover the others
        ("cplry.com/", DYNAMIC, False),
    ],
)
def test_short_links_are_covered_by_their_short_domain(entry, kind, covered):
    whitelist = trai.Whitelist(Org(name="Acme"), [(entry, kind)])
    assert whitelist.covers_short_link("s.cplry.com/7383936D89") is covered


@pytest.mark.parametrize(
    "url, shortener",
    [
        ("bit.ly/3xYz", "bit.ly"),
        ("https://tinyurl.com/acme", "tinyurl.com"),
        ("http://goo.gl/abc", "goo.gl"),
        ("https://t.co/x1", "t.co"),
        ("www.bit.ly/x", "bit.ly"),
        ("https://BIT.LY/x", "bit.ly"),
        ("https://rb.gy/abc", "rb.gy"),
        ("https://at.co/x", None),
        ("https://bitly-fan.in/x", None),
        ("s.cplry.com/7383936D89", None),
        ("https://acme.in/bit.ly", None),
    ],
)
def test_public_shorteners_are_recognised_by_host(url, shortener):
    assert trai.public_shortener(url) == shortener


# --- Campaigns ---------------------------------------------------------------------------------------------------


@pytest.fixture
def untracked(org) -> Org:
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    return org


def _whitelist(org: Org, *entries: tuple[str, str]) -> trai.Whitelist:
    for url, kind in entries:
        WhitelistedUrl.objects.create(org=org, url=url, kind=kind)
    return trai.Whitelist.for_org(org)


def _findings(org, template, *values, customer=None):
    slots = [{"source": "url" if "." in v else "text", "value": v} for v in values]
    return trai.campaign_findings(org=org, template=template, slot_values=slots, customer=customer)


def test_link_value_not_on_the_whitelist_blocks_when_tracking_is_off(untracked, template):
    _whitelist(untracked, ("https://acme.in/", DYNAMIC))
    findings = _findings(untracked, template, "Asha", "https://shop.example.com/t")
    assert _codes(findings) == [("not_whitelisted", True)]
    assert findings[0].message.startswith(
        "The link 'https://shop.example.com/t' (variable 2) is not on Acme Retail's URL whitelist. Operators block"
    )
    assert _findings(untracked, template, "Asha", "www.acme.in/track/1") == []


def test_fixed_text_link_is_checked_against_the_whitelist(untracked, sender):
    template = Template.objects.create(
        org=untracked, name="Sale", sender=sender, body="Big sale at www.acme.in/sale today only, {#var#}. Acme"
    )
    _whitelist(untracked, ("https://acme.in/home", STATIC))
    findings = _findings(untracked, template, "Asha")
    assert _codes(findings) == [("not_whitelisted", True)]
    assert "'www.acme.in/sale' (in the template's fixed text)" in findings[0].message
    _whitelist(untracked, ("https://www.acme.in/sale/", STATIC))
    assert _findings(untracked, template, "Asha") == []


def test_tracked_links_need_the_short_domain_not_the_destination(org, template):
    # given tracking on: the destination never appears in the message, the short link does
    _whitelist(org, ("https://shop.acme.in/", DYNAMIC))
    findings = _findings(org, template, "Asha", "https://unlisted.example.com/t")
    assert _codes(findings) == [("short_domain", True)]
    assert findings[0].message.startswith(
        "Tracked links go out as '127.0.0.1:8000/s/…', and '127.0.0.1:8000/s/' is not on Acme Retail's URL "
        "whitelist: operators block every message with a tracked link."
    )
    # when the short domain is whitelisted, nothing is left
    _whitelist(org, ("127.0.0.1:8000/s/", DYNAMIC))
    assert _findings(org, template, "Asha", "https://unlisted.example.com/t") == []


def test_orgs_own_short_domain_is_what_must_be_whitelisted(org, template):
    org.short_domain = "s.cplry.com"
    org.save(update_fields=["short_domain"])
    _whitelist(org, ("127.0.0.1:8000/s/", DYNAMIC))
    assert _codes(_findings(org, template, "Asha", "https://acme.in/t")) == [("short_domain", True)]
    _whitelist(org, ("https://s.cplry.com/", DYNAMIC))
    assert _findings(org, template, "Asha", "https://acme.in/t") == []


def test_public_shortener_in_a_value_blocks_even_without_a_whitelist(untracked, template):
    findings = _findings(untracked, template, "Asha", "bit.ly/3xYz")
    assert _codes(findings) == [("public_shortener", True), ("no_whitelist", False)]
    assert "goes through bit.ly, a public link shortener" in findings[0].message


def test_shortener_behind_tracking_is_replaced_so_not_flagged(org, template):
    _whitelist(org, ("127.0.0.1:8000/s/", DYNAMIC))
    assert _findings(org, template, "Asha", "bit.ly/3xYz") == []


def test_without_a_whitelist_links_are_not_checked_and_it_is_said_once(untracked, sender):
    template = Template.objects.create(
        org=untracked, name="Two", sender=sender, body="See acme.in/a and {#var#} or {#var#} now, thanks - Acme Retail"
    )
    findings = _findings(untracked, template, "shop.example.com/1", "other.example.com/2")
    assert _codes(findings) == [("no_whitelist", False)]
    assert findings[0].message.startswith("Acme Retail has not recorded its DLT URL whitelist, so links cannot be")


def test_a_message_without_links_needs_no_whitelist(untracked, template):
    assert _findings(untracked, template, "Asha", "soon") == []


def test_customer_field_links_are_checked_for_the_sample_but_never_block(untracked, template):
    _whitelist(untracked, ("https://acme.in/", DYNAMIC))
    customer = Customer(org=untracked, name="Asha", attributes={"invoice": "https://pay.example.com/i/9"})
    slots = [{"source": "field", "value": "name"}, {"source": "field", "value": "invoice"}]
    # at launch (no customer) the value is unknown: nothing to say
    assert trai.campaign_findings(org=untracked, template=template, slot_values=slots) == []
    findings = trai.campaign_findings(org=untracked, template=template, slot_values=slots, customer=customer)
    assert _codes(findings) == [("not_whitelisted", False)]
    assert "(variable 2, for Asha)" in findings[0].message


def test_url_slot_from_a_customer_field_is_a_tracked_link_whatever_the_customer(org, sender):
    template = Template.objects.create(org=org, name="Typed", sender=sender, body="Your order is here: {#url#} - Acme")
    _whitelist(org, ("https://acme.in/", DYNAMIC))
    slots = [{"source": "field", "value": "tracking_link"}]
    findings = trai.campaign_findings(org=org, template=template, slot_values=slots)
    assert _codes(findings) == [("short_domain", True)]


def test_email_campaigns_are_not_concerned(org):
    template = Template.objects.create(org=org, name="Mail", channel="email", body="Go {#var#}")
    assert _findings(org, template, "bit.ly/x") == []


# --- Templates and the org ---------------------------------------------------------------------------------------


def test_template_findings_name_fixed_share_variables_and_links(untracked):
    _whitelist(untracked, ("https://acme.in/", DYNAMIC))
    body = "{#var#} {#var#} {#var#} {#var#} see www.other.in"
    assert _codes(trai.template_findings(org=untracked, body=body)) == [
        ("fixed_share", False),
        ("variables", False),
        ("not_whitelisted", True),
    ]


def test_template_with_a_url_variable_reminds_to_record_the_whitelist(org):
    body = "Your Acme order has shipped and is on its way. Track it here: {#url#}"
    assert _codes(trai.template_findings(org=org, body=body)) == [("no_whitelist", False)]
    _whitelist(org, ("https://acme.in/", DYNAMIC))
    assert _codes(trai.template_findings(org=org, body=body)) == [("short_domain", True)]


def test_template_findings_skip_email_and_broken_bodies(org):
    assert trai.template_findings(org=org, body="Go {#var1#}") == []
    assert trai.template_findings(org=org, body="{#var#}", channel="email") == []


@pytest.mark.parametrize("tracking, blocking, words", [(True, True, "go out as"), (False, False, "would go out")])
def test_org_short_domain_not_whitelisted(org, tracking, blocking, words):
    org.sms_link_tracking = tracking
    org.save(update_fields=["sms_link_tracking"])
    assert _codes(trai.org_findings(org=org)) == [("no_whitelist", False)]
    _whitelist(org, ("https://acme.in/", DYNAMIC))
    (finding,) = trai.org_findings(org=org)
    assert (finding.code, finding.blocking) == ("short_domain", blocking)
    assert f"Tracked links {words}" in finding.message
    _whitelist(org, ("127.0.0.1:8000/s/", DYNAMIC))
    assert trai.org_findings(org=org) == []


# --- Recording the whitelist -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, kind, field, message",
    [
        ("https://acme.in/p?id=", STATIC, "kind", "A static URL has no '?'."),
        ("https://bit.ly/acme", DYNAMIC, "url", "bit.ly is a public link shortener"),
        ("our website", STATIC, "url", "'our website' is not a web link."),
        ("javascript:alert(1)", STATIC, "url", "Only http and https links can be whitelisted."),
        ("ftp://acme.in/files", STATIC, "url", "Only http and https links can be whitelisted."),
    ],
)
def test_whitelist_entries_are_refused_in_words(org, manager, url, kind, field, message):
    with pytest.raises(ValidationError) as refused:
        url_whitelist.whitelisted_url_add(org=org, user=manager, url=url, kind=kind)
    assert refused.value.message_dict[field][0].startswith(message)
    assert not WhitelistedUrl.objects.exists()


def test_the_same_static_url_written_differently_is_refused_as_a_duplicate(org, manager):
    url_whitelist.whitelisted_url_add(org=org, user=manager, url="https://www.acme.in/sale", kind=STATIC)
    with pytest.raises(ValidationError) as refused:
        url_whitelist.whitelisted_url_add(org=org, user=manager, url="acme.in/sale/", kind=STATIC)
    assert refused.value.message_dict["url"] == ["Already on the whitelist as 'https://www.acme.in/sale'."]


def test_dynamic_prefix_and_idn_entries_are_recorded(org, other_org, manager):
    dynamic = url_whitelist.whitelisted_url_add(org=org, user=manager, url="https://acme.in/order?id=", kind=DYNAMIC)
    idn = url_whitelist.whitelisted_url_add(org=org, user=manager, url=" https://उदाहरण.भारत/sale ", kind=STATIC)
    # the same URL in another org is that org's own entry
    url_whitelist.whitelisted_url_add(org=other_org, user=manager, url="https://acme.in/order?id=", kind=DYNAMIC)
    assert (dynamic.created_by, idn.url) == (manager, "https://उदाहरण.भारत/sale")
    whitelist = trai.Whitelist.for_org(org)
    assert whitelist.covers("acme.in/order?id=5") and whitelist.covers("xn--p1b6ci4b4b3a.xn--h2brj9c/sale")
