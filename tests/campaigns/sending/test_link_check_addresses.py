"""Link check: private addresses are not fetched, and over HTTPS the certificate must be valid for the name."""

import socket
import ssl

import pytest

from campaigns.sending import link_fetching
from campaigns.sending.link_check import Verdict
from tests.campaigns.sending.link_check_site import _check_one, _link_campaign, running_site
from tests.local_peers import self_signed_certificate

# --- Private addresses ---------------------------------------------------------------------------------------------


def test_a_private_address_is_not_fetched_when_not_allowed(settings, org, sender, site):
    settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = False
    campaign = _link_campaign(org, sender, f"{site.base}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.NOT_CHECKED and check.words == "not checked: private address"
    assert site.requests == []


def test_a_redirect_to_a_private_address_is_not_followed(settings, org, sender, site, monkeypatch):
    # given a public site (as far as the check sees) that redirects to the cloud metadata address
    settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = False
    port = int(site.base.rsplit(":", 1)[1])
    site.pages["/sale"] = ("redirect", 302, "http://169.254.169.254/latest/meta-data/")
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "shop.acme.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    real_connect = socket.create_connection
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda address, *a, **k: real_connect(
            ("127.0.0.1", port) if address[0] == "93.184.216.34" else address, *a, **k
        ),
    )
    campaign = _link_campaign(org, sender, f"http://shop.acme.test:{port}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.NOT_CHECKED
    assert check.words == "redirects to http://169.254.169.254/latest/meta-data/: not checked: private address"
    assert site.paths == ["/sale"]


# --- TLS ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for shop.acme.test (its own authority), and its key."""
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), "shop.acme.test")


@pytest.fixture
def tls_site(settings, certificate, monkeypatch):
    """The site over TLS; linktrack trusts its certificate and finds every *.acme.test name at it."""
    settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = True
    cert, key = certificate
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    monkeypatch.setattr(link_fetching, "tls_context", lambda: ssl.create_default_context(cafile=cert))
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda name, *a, **k: real_getaddrinfo("127.0.0.1" if name.endswith(".acme.test") else name, *a, **k),
    )
    with running_site(tls=server_side) as running:
        running.port = int(running.base.rsplit(":", 1)[1])
        yield running


@pytest.mark.parametrize(
    ("host", "verdict", "words"),
    [
        ("shop.acme.test", Verdict.WORKS, "answers 200 OK ("),
        ("other.acme.test", Verdict.BROKEN, "could not be reached: certificate not valid for this name"),
    ],
)
def test_over_https_the_certificate_must_be_valid_for_the_name(tls_site, org, sender, host, verdict, words):
    campaign = _link_campaign(org, sender, f"https://{host}:{tls_site.port}/sale")

    check = _check_one(campaign)

    assert check.verdict == verdict and check.words.startswith(words)


def test_leaving_https_for_http_on_the_way_needs_a_look(tls_site, site, org, sender):
    tls_site.pages["/sale"] = ("redirect", 302, f"{site.base}/sale")
    campaign = _link_campaign(org, sender, f"https://shop.acme.test:{tls_site.port}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.CHECK and check.status == 200
    assert check.words.endswith(f"on the way it leaves https for http ({site.base}/sale): the page is not encrypted")
