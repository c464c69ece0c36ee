"""Finding links in message text: where they start and end, and where a click goes."""

import pytest

from campaigns.dlt.link_finding import LinkError, find_links
from campaigns.dlt.parsing import parse_template
from campaigns.dlt.rendering import RenderRefused, render_sms, rewrite_hrefs


def _texts(text: str) -> list[str]:
    return [link.text for link in find_links(text)]


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("www.google.com", ["www.google.com"]),
        ("Go to www.x.com.", ["www.x.com"]),
        ("Visit www.x.com, www.y.in; or z.co!", ["www.x.com", "www.y.in", "z.co"]),
        (
            "https://shop.example.in/sale?utm_source=sms&x=1#top",
            ["https://shop.example.in/sale?utm_source=sms&x=1#top"],
        ),
        ("example.in/p/1", ["example.in/p/1"]),
        ("acme.in:8443/x?y=1", ["acme.in:8443/x?y=1"]),
        ("[https://acme.in/a]", ["https://acme.in/a"]),
        ("(see acme.in/a_(b)).", ["acme.in/a_(b)"]),
        ("'acme.in'", ["acme.in"]),
        ("https://localhost:8000/x", ["https://localhost:8000/x"]),
        ("उदाहरण.भारत", ["उदाहरण.भारत"]),
        ("साइट: www.उदाहरण.भारत/पृष्ठ। धन्यवाद", ["www.उदाहरण.भारत/पृष्ठ"]),
        ("WWW.ACME.COM", ["WWW.ACME.COM"]),
        ("www.acme.test/sale", ["www.acme.test/sale"]),
        ("https://acme.shop/x and acme.shop", ["https://acme.shop/x", "acme.shop"]),
        ("Link-https://acme.in/x", ["https://acme.in/x"]),
        ("देखेंhttps://acme.in/x", ["https://acme.in/x"]),
        # not links
        ("Mr.Sharma", []),
        ("Rs.500 only", []),
        ("v1.2.3", []),
        ("e.g. and i.e.", []),
        ("Sale ends today.Hurry", []),
        ("Offer ends today.Shop now", []),
        ("ok.so fine", []),
        ("file.txt", []),
        ("write to help@acme.in", []),
        ("192.168.1.1", []),
        ("localhost:8000", []),
        ("mailto:help@acme.in tel:+911234", []),
        ("Your data: 5GB left", []),
    ],
)
def test_links_are_found_exactly(text, links):
    assert _texts(text) == links


def test_positions_point_at_the_link_in_the_text():
    text = "Hi! Visit www.x.com. Then y.in"
    assert [(link.start, link.end) for link in find_links(text)] == [(10, 19), (26, 30)]
    assert all(text[link.start : link.end] == link.text for link in find_links(text))


@pytest.mark.parametrize(
    ("text", "destination"),
    [
        ("www.google.com", "https://www.google.com"),
        ("http://acme.in/a?b=1#c", "http://acme.in/a?b=1#c"),
        ("acme.in:8080/p", "https://acme.in:8080/p"),
        ("उदाहरण.भारत/x?q=1", "https://xn--p1b6ci4b4b3a.xn--h2brj9c/x?q=1"),
        ("https://Bücher.de:8443/x#f", "https://xn--bcher-kva.de:8443/x#f"),
        ("HTTPS://ACME.IN/X", "https://ACME.IN/X"),
        ("https://user:pw@acme.in/x", "https://user:pw@acme.in/x"),
    ],
)
def test_destination_has_a_scheme_and_an_ascii_host(text, destination):
    [link] = find_links(text)
    assert link.destination == destination


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("javascript:alert(1)", "'javascript:' links are not allowed"),
        ("Click JavaScript:void(0)", "'JavaScript:' links are not allowed"),
        ("data:text/html;base64,PHNjcmlwdD4=", "'data:' links are not allowed"),
        ("file:///etc/passwd", "'file:' links are not allowed"),
        ("vbscript:msgbox", "'vbscript:' links are not allowed"),
        ("ftp://files.acme.in/x", "'ftp://files.acme.in/x' is not a web link"),
    ],
)
def test_only_http_and_https_links_are_accepted(text, message):
    with pytest.raises(LinkError, match=message):
        find_links(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a control character is shown as "?" (it could not be printed)
        ("Shop at https://b\x80d.in/ now", r"'https://b\?d.in/' is not a web address that can be opened"),
        ("Shop at www.b\x80d.in", r"'www.b\?d.in' is not a web address that can be opened \(found at character 9\)"),
        ("Shop at https://उदाहरण.भारत:99999/x", "is not a web address that can be opened"),
    ],
)
def test_a_link_no_browser_could_open_is_refused_in_words(text, message):
    with pytest.raises(LinkError, match=message):
        find_links(text)


def test_a_broken_address_in_an_email_href_is_refused_in_words():
    with pytest.raises(LinkError, match=r"'https://\[1' is not a web address that can be opened"):
        rewrite_hrefs('<a href="https://[1">Shop</a>', lambda destination: destination)


def test_a_customer_value_with_a_link_no_browser_could_open_is_refused_not_raised():
    parsed = parse_template("Hi {#var#}, shop at {#var#}")
    with pytest.raises(RenderRefused, match=r"Variable 2: 'https://b.*' is not a web address that can be opened"):
        render_sms(parsed=parsed, values=["Asha", "https://b\x80d.in/"], tracking=True, short_url_for=lambda d: d)
