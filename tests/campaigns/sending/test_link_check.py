"""Link check: before launch, the preview opens every destination of a campaign's links, as a click would reach
it, and says in words whether it works; a real HTTP server on this machine plays the brand's site."""

import socket
import time

import pytest

from campaigns.models import Channel, Template
from campaigns.sending import link_check
from campaigns.sending.link_check import Verdict, campaign_link_checks
from tests.campaigns.sending.link_check_site import _check_one, _link_campaign
from tests.factories import CampaignFactory, make_customers


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
