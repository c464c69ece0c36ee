"""Link check: before launch, the preview opens every destination of a campaign's links, as a click would reach
it, and says in words whether it works; a real HTTP server on this machine plays the brand's site."""

import socket
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Channel, Template
from campaigns.sending import link_check, link_fetching
from campaigns.sending.link_check import Verdict, campaign_link_checks, link_checks_summary
from tests.factories import CampaignFactory, make_customers
from tests.local_peers import http_peer, self_signed_certificate

# --- The brand's site: a real HTTP server on this machine ---------------------------------------------------------


@dataclass
class Site:
    """Answers each path as `pages` says: ("ok", html), ("status", code), ("redirect", status, location),
    ("slow", seconds), ("garbage",). Unknown paths answer 200. Records every request it is sent."""

    base: str = ""
    pages: dict[str, tuple] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def paths(self) -> list[str]:
        with self.lock:
            return [request["path"] for request in self.requests]


@contextmanager
def running_site(tls: ssl.SSLContext | None = None):
    site = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with site.lock:
                site.requests.append({"path": self.path, "headers": dict(self.headers)})
            kind, *args = site.pages.get(self.path.split("?", 1)[0], ("ok", "<title>Sale</title>"))
            try:
                if kind == "garbage":
                    self.wfile.write(b"\x00\x01 this is not HTTP at all\r\n\r\n")
                    return
                if kind == "slow":
                    time.sleep(args[0])
                if kind == "redirect":
                    self.send_response(args[0])
                    self.send_header("Location", args[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = (args[0] if kind == "ok" else f"<title>Error {args[0]}</title>").encode()
                self.send_response(args[0] if kind == "status" else 200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # linktrack stopped waiting (the slow page)

        def log_message(self, *args):
            pass

    with http_peer(Handler, tls) as port:
        site.base = f"http://127.0.0.1:{port}"
        yield site


@pytest.fixture
def site(settings):
    settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = True  # the site runs on this machine
    with running_site() as running:
        yield running


def _link_campaign(org, sender, *urls: str, utm: dict | None = None) -> Campaign:
    """An SMS campaign whose variables are these links (link tracking is on for the org)."""
    body = "Sale: " + " and ".join("{#var#}" for _ in urls) + " - Acme"
    template = Template.objects.create(org=org, name="Sale", sender=sender, body=body)
    return CampaignFactory(
        org=org,
        name="Diwali sale",
        template=template,
        slot_values=[{"source": "url", "value": url} for url in urls],
        utm_params=utm or {},
    )


def _check_one(campaign: Campaign):
    (check,) = campaign_link_checks(campaign=campaign)
    return check


def _preview(client: Client, campaign: Campaign) -> str:
    response = client.get(reverse("campaigns:preview", args=[campaign.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _unused_port() -> int:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]


# --- What each link answers ----------------------------------------------------------------------------------------


def test_a_page_that_answers_200_works(org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.WORKS and check.problem is None
    assert check.status == 200 and check.final_url == f"{site.base}/sale"
    assert check.words.startswith("answers 200 OK (") and check.words.endswith(" s)")
    assert site.requests[0]["headers"]["User-Agent"] == "linktrack-link-check"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (404, "answers 404 Not Found: recipients would land on an error page"),
        (500, "answers 500 Internal Server Error: recipients would land on an error page"),
    ],
)
def test_an_error_page_does_not_work_and_says_so(org, sender, site, status, words):
    site.pages["/sale"] = ("status", status)
    campaign = _link_campaign(org, sender, f"{site.base}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.BROKEN and check.status == status
    assert check.problem == check.words == words


def test_a_redirect_chain_is_followed_and_shown(org, sender, site):
    site.pages["/sale"] = ("redirect", 301, "/sale/")
    site.pages["/sale/"] = ("redirect", 302, f"{site.base}/diwali")
    campaign = _link_campaign(org, sender, f"{site.base}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.WORKS
    assert [(hop.status, hop.location) for hop in check.redirects] == [
        (301, f"{site.base}/sale/"),
        (302, f"{site.base}/diwali"),
    ]
    assert check.words.startswith(f"redirects to {site.base}/diwali, which answers 200 OK (")
    assert site.paths == ["/sale", "/sale/", "/diwali"]


def test_a_redirect_to_a_login_page_needs_a_look(org, sender, site):
    site.pages["/orders"] = ("redirect", 302, "/account/login?next=/orders")
    campaign = _link_campaign(org, sender, f"{site.base}/orders")

    check = _check_one(campaign)

    assert check.verdict == Verdict.CHECK
    assert check.words.startswith(f"redirects to {site.base}/account/login?next=/orders (a login page?)")


def test_a_redirect_loop_is_reported_without_following_it_for_ever(org, sender, site):
    site.pages["/a"] = ("redirect", 302, "/b")
    site.pages["/b"] = ("redirect", 302, "/a")
    campaign = _link_campaign(org, sender, f"{site.base}/a")

    check = _check_one(campaign)

    assert check.verdict == Verdict.BROKEN
    assert check.words == f"redirects in a loop (back to {site.base}/a): browsers give up and recipients see an error"
    assert site.paths == ["/a", "/b"]


def test_more_than_five_redirects_are_not_followed(org, sender, site):
    for hop in range(10):
        site.pages[f"/hop{hop}"] = ("redirect", 302, f"/hop{hop + 1}")
    campaign = _link_campaign(org, sender, f"{site.base}/hop0")

    check = _check_one(campaign)

    assert check.verdict == Verdict.CHECK
    assert check.words.startswith(f"redirects more than 5 times (linktrack stopped at {site.base}/hop6)")
    assert len(site.paths) == 6  # the link and the five redirects followed


def test_a_slow_site_is_reported_as_timed_out(settings, org, sender, site):
    settings.LINK_CHECK_TIMEOUT_SECONDS = 0.3
    site.pages["/sale"] = ("slow", 2.0)
    campaign = _link_campaign(org, sender, f"{site.base}/sale")

    started = time.monotonic()
    check = _check_one(campaign)

    assert time.monotonic() - started < 1.5  # the page does not wait for the site
    assert check.verdict == Verdict.BROKEN and check.words == "did not answer: timed out after 0.3 s"


def test_a_refused_connection_is_reported_in_words(settings, org, sender):
    settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = True
    campaign = _link_campaign(org, sender, f"http://127.0.0.1:{_unused_port()}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.BROKEN and check.words == "could not be reached: connection refused"


def test_an_answer_that_is_not_http_is_reported(org, sender, site):
    site.pages["/sale"] = ("garbage",)
    campaign = _link_campaign(org, sender, f"{site.base}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.BROKEN
    assert check.words == "answered something that is not a web page (not HTTP)"


def test_a_page_titled_not_found_needs_a_look(org, sender, site):
    site.pages["/sale"] = ("ok", "<html><head><title>Page Not Found | Acme</title></head></html>")
    campaign = _link_campaign(org, sender, f"{site.base}/sale")

    check = _check_one(campaign)

    assert check.verdict == Verdict.CHECK
    assert 'answers 200 OK, but the page is titled "Page Not Found | Acme"' in check.words


def test_the_address_checked_is_the_redirects_with_the_campaigns_utm_parameters(org, sender, site):
    campaign = _link_campaign(
        org, sender, f"{site.base}/sale?ref=sms", utm={"utm_campaign": "diwali", "utm_source": "linktrack"}
    )

    check = _check_one(campaign)

    assert site.paths == ["/sale?ref=sms&utm_source=linktrack&utm_campaign=diwali"]
    assert check.url == f"{site.base}/sale?ref=sms&utm_source=linktrack&utm_campaign=diwali"


def test_without_link_tracking_the_link_is_checked_as_written(org, sender, site):
    # no short link, no redirect: recipients open the link itself, without the UTM parameters
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    campaign = _link_campaign(org, sender, f"{site.base}/sale", utm={"utm_source": "linktrack"})

    assert _check_one(campaign).url == f"{site.base}/sale"
    assert site.paths == ["/sale"]


def test_each_distinct_link_is_checked_once_side_by_side(settings, org, sender, site, django_assert_num_queries):
    settings.LINK_CHECK_TIMEOUT_SECONDS = 2.0
    for name in ("a", "b", "c"):
        site.pages[f"/{name}"] = ("slow", 0.5)
    campaign = _link_campaign(org, sender, f"{site.base}/a", f"{site.base}/b", f"{site.base}/c", f"{site.base}/a")

    started = time.monotonic()
    with django_assert_num_queries(0):
        checks = campaign_link_checks(campaign=campaign)

    assert time.monotonic() - started < 1.4  # three half-second pages at once, not one after the other
    assert [check.url for check in checks] == [f"{site.base}/a", f"{site.base}/b", f"{site.base}/c"]
    assert all(check.works for check in checks) and sorted(site.paths) == ["/a", "/b", "/c"]


def test_an_email_campaigns_links_are_checked_text_and_html(org, site):
    template = Template.objects.create(
        org=org,
        name="Newsletter",
        channel=Channel.EMAIL,
        subject="News",
        body="Read it here: {#var#}",
        html_body=f'<p><a href="{site.base}/news">Read</a> or <a href="mailto:help@acme.in">write</a></p>',
    )
    campaign = CampaignFactory(
        org=org, name="News", template=template, slot_values=[{"source": "url", "value": f"{site.base}/gone"}]
    )
    site.pages["/gone"] = ("status", 410)

    checks = campaign_link_checks(campaign=campaign)

    assert [(check.url, check.verdict) for check in checks] == [
        (f"{site.base}/gone", Verdict.BROKEN),
        (f"{site.base}/news", Verdict.WORKS),
    ]


def test_a_link_from_a_customer_field_is_the_sample_customers(org, sender, site):
    customer, other = make_customers(org, 2)
    customer.attributes = {"order_url": f"{site.base}/orders/1"}
    customer.save(update_fields=["attributes"])
    template = Template.objects.create(org=org, name="Order", sender=sender, body="Track: {#var#}")
    campaign = CampaignFactory(
        org=org, name="Orders", template=template, slot_values=[{"source": "field", "value": "order_url"}]
    )

    (check,) = campaign_link_checks(campaign=campaign, customer=customer)

    assert check.url == f"{site.base}/orders/1" and check.from_customer and check.works
    assert campaign_link_checks(campaign=campaign, customer=other) == []


def test_the_page_waits_about_one_timeout_however_many_links(settings, org, sender, site, monkeypatch):
    # given more slow links than are fetched at once
    settings.LINK_CHECK_TIMEOUT_SECONDS = 0.3
    monkeypatch.setattr(link_check, "MAX_PARALLEL", 1)
    monkeypatch.setattr(link_check, "WAIT_MARGIN_SECONDS", 0.2)
    site.pages["/a"] = ("slow", 2.0)
    site.pages["/b"] = ("slow", 2.0)
    campaign = _link_campaign(org, sender, f"{site.base}/a", f"{site.base}/b")

    started = time.monotonic()
    first, second = campaign_link_checks(campaign=campaign)

    # then the wait ends, the slow one timed out and the one not reached says so (and is tried again next time)
    assert time.monotonic() - started < 1.0
    assert first.words == "did not answer: timed out after 0.3 s"
    assert second.verdict == Verdict.NOT_CHECKED and "press Check again" in second.words


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


# --- The summary ---------------------------------------------------------------------------------------------------


def test_the_summary_counts_what_does_not_work():
    def check(verdict):
        return link_check.LinkCheck(url="https://x.in", verdict=verdict, words="")

    assert link_checks_summary([check(Verdict.WORKS), check(Verdict.WORKS)]) == ""
    assert (
        link_checks_summary([check(Verdict.BROKEN), check(Verdict.WORKS)])
        == "1 of 2 links does not work: check it before launching."
    )
    assert (
        link_checks_summary([check(Verdict.BROKEN), check(Verdict.BROKEN), check(Verdict.CHECK)])
        == "2 of 3 links do not work: check them before launching. 1 more needs a look."
    )
    assert link_checks_summary([check(Verdict.NOT_CHECKED)]) == "1 of 1 link needs a look before launching."


# --- The preview page ----------------------------------------------------------------------------------------------


def test_the_preview_lists_each_link_with_its_result_and_a_summary_at_the_top(client, manager, org, sender, site):
    site.pages["/gone"] = ("status", 404)
    campaign = _link_campaign(org, sender, f"{site.base}/sale", f"{site.base}/gone")
    client.force_login(manager)

    page = _preview(client, campaign)

    assert '<div class="card" id="links">' in page
    assert "1 of 2 links does not work: check it before launching." in page
    assert page.index('id="links-summary"') < page.index('id="trai-checks"')  # at the top
    assert f"<code>{site.base}/sale</code>" in page and f"<code>{site.base}/gone</code>" in page
    assert "<td><strong>Works</strong></td>" in page and "<td><strong>Does not work</strong></td>" in page
    assert "answers 404 Not Found: recipients would land on an error page" in page
    assert "checked just now" in page


def test_a_preview_whose_links_all_work_has_no_summary(client, manager, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(manager)

    page = _preview(client, campaign)

    assert 'id="links"' in page and 'id="links-summary"' not in page


def test_reloading_the_preview_fetches_nothing_and_check_again_does(client, manager, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(manager)
    _preview(client, campaign)
    assert site.paths == ["/sale"]

    # when the page is loaded again, the result comes from the cache
    _preview(client, campaign)
    assert site.paths == ["/sale"]

    # when the manager presses Check again, the link is fetched again and the page shows the new answer
    site.pages["/sale"] = ("status", 503)
    response = client.post(reverse("campaigns:preview-check-links", args=[campaign.pk]), follow=True)
    assert site.paths == ["/sale", "/sale"]
    assert response.redirect_chain[-1][0] == reverse("campaigns:preview", args=[campaign.pk]) + "#links"
    page = response.content.decode()
    assert "Checked 1 link again." in page and "answers 503 Service Unavailable" in page


def test_check_again_keeps_the_sample_customer(client, manager, org, sender, site):
    customers = make_customers(org, 3)
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(manager)

    response = client.post(reverse("campaigns:preview-check-links", args=[campaign.pk]), {"customer": customers[1].pk})

    assert response.status_code == 302
    assert response["Location"].endswith(f"?customer={customers[1].pk}#links")


def test_check_again_without_a_sample_customer_checks_the_first_customers_links(client, manager, org, sender, site):
    first, second = make_customers(org, 2)
    for customer in (first, second):
        customer.attributes = {"order_url": f"{site.base}/orders/{customer.pk}"}
        customer.save(update_fields=["attributes"])
    template = Template.objects.create(org=org, name="Order", sender=sender, body="Track: {#var#}")
    campaign = CampaignFactory(
        org=org, name="Orders", template=template, slot_values=[{"source": "field", "value": "order_url"}]
    )
    client.force_login(manager)

    client.post(reverse("campaigns:preview-check-links", args=[campaign.pk]))
    page = _preview(client, campaign)

    assert site.paths == [f"/orders/{first.pk}"]  # checked once, by Check again; the page read it from the cache
    assert "from a customer field: this sample customer's link" in page


def test_check_again_needs_the_csrf_token(manager, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(reverse("campaigns:preview-check-links", args=[campaign.pk]))

    assert response.status_code == 403 and site.requests == []
    # and the page's own form carries the token
    page = client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    form = page[page.index('action="' + reverse("campaigns:preview-check-links", args=[campaign.pk])) :]
    assert 'name="csrfmiddlewaretoken"' in form[: form.index("</form>")]


def test_check_again_is_a_post(client, manager, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(manager)
    assert client.get(reverse("campaigns:preview-check-links", args=[campaign.pk])).status_code == 405
    assert site.requests == []


def test_another_orgs_campaign_is_not_found_and_its_links_are_not_fetched(client, outsider, org, sender, site):
    campaign = _link_campaign(org, sender, f"{site.base}/sale")
    client.force_login(outsider)

    assert client.get(reverse("campaigns:preview", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("campaigns:preview-check-links", args=[campaign.pk])).status_code == 404
    assert site.requests == []


def test_a_campaign_without_links_shows_no_links_section(client, manager, template, site):
    campaign = CampaignFactory(
        org=template.org,
        name="No links",
        template=template,
        slot_values=[{"source": "text", "value": "Asha"}, {"source": "text", "value": "soon"}],
    )
    client.force_login(manager)

    page = _preview(client, campaign)

    assert 'id="links"' not in page and "Check again" not in page
    assert site.requests == []
