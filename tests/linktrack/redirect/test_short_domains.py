"""Per-org short domains: codes at the root of the org's host, and only on the domain they were minted for."""

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client

from campaigns.models import Org
from linktrack.models import Click, ShortLink
from linktrack.redirect import codes, short_domains, short_links
from tests.factories import CampaignFactory, make_messages
from tests.linktrack.helpers import PHONE_UA, link_for, path_for


def test_org_short_domain_serves_codes_at_the_root(client, acme_on_own_domain, template, customers):
    # given a campaign of an org whose short domain is s.acme.test
    campaign = CampaignFactory(template=template)
    message = make_messages(campaign, customers[:1])[0]
    link = link_for(campaign)
    code = codes.encode(link.pk, message.pk)

    # then the message shows the org's domain, and the code works at that host's root
    assert short_links.short_url(org=acme_on_own_domain, short_link_id=link.pk, message_id=message.pk) == (
        f"s.acme.test/{code}"
    )
    response = client.get(f"/{code}", HTTP_HOST="s.acme.test", HTTP_USER_AGENT=PHONE_UA)
    assert response.status_code == 302 and response["Location"] == "https://shop.acme.test/sale?x=1#top"
    assert Click.objects.get().message == message


def test_code_with_trailing_slash_or_lowercase_still_works_on_a_short_domain(
    client, acme_on_own_domain, template, customers
):
    campaign = CampaignFactory(template=template)
    code = codes.encode(link_for(campaign).pk, make_messages(campaign, customers[:1])[0].pk)

    assert client.get(f"/{code}/", HTTP_HOST="s.acme.test").status_code == 302
    assert client.get(f"/{code.lower()}", HTTP_HOST="s.acme.test").status_code == 302


def test_code_minted_for_the_org_domain_does_not_resolve_on_the_main_host(
    client, acme_on_own_domain, template, customers
):
    campaign = CampaignFactory(template=template)
    link, message = link_for(campaign), make_messages(campaign, customers[:1])[0]

    response = client.get(path_for(link, message), HTTP_USER_AGENT=PHONE_UA)

    assert response.status_code == 404 and "This link does not work" in response.content.decode()
    assert not Click.objects.exists()


def test_code_does_not_resolve_on_another_orgs_short_domain(
    client, acme_on_own_domain, other_org, template, customers, django_capture_on_commit_callbacks
):
    # given another org with its own short domain
    with django_capture_on_commit_callbacks(execute=True):
        other_org.short_domain = "s.other.test"
        other_org.save()
    campaign = CampaignFactory(template=template)
    code = codes.encode(link_for(campaign).pk, make_messages(campaign, customers[:1])[0].pk)

    # when acme's code is requested on the other org's domain
    response = client.get(f"/{code}", HTTP_HOST="s.other.test", HTTP_USER_AGENT=PHONE_UA)

    # then it is not found there, only on acme's own
    assert response.status_code == 404
    assert client.get(f"/{code}", HTTP_HOST="s.acme.test").status_code == 302


def test_default_code_does_not_resolve_on_an_org_short_domain(client, hosts, link, messages, other_org):
    # given a link minted with the deployment's base URL (/s/ on the main host)
    other_org.short_domain = "s.other.test"
    other_org.save()
    short_domains.short_domains_forget()
    code = codes.encode(link.pk, messages[0].pk)

    assert client.get(f"/s/{code}").status_code == 302
    assert client.get(f"/{code}", HTTP_HOST="s.other.test").status_code == 404


def test_links_sent_before_a_domain_change_keep_working_on_their_domain(
    client, acme_on_own_domain, template, customers, django_capture_on_commit_callbacks
):
    # given a message sent with s.acme.test
    campaign = CampaignFactory(template=template)
    messages = make_messages(campaign, customers[:2])
    old_link = link_for(campaign)
    old_code = codes.encode(old_link.pk, messages[0].pk)

    # when the org moves to a new short domain and the campaign sends again
    with django_capture_on_commit_callbacks(execute=True):
        acme_on_own_domain.short_domain = "s.cplry.com"
        acme_on_own_domain.save()
    new_link = link_for(campaign)
    new_code = codes.encode(new_link.pk, messages[1].pk)

    # then the old message still works on the old domain, the new one on the new domain, neither on the other
    assert new_link.pk != old_link.pk and new_link.short_domain == "s.cplry.com"
    assert client.get(f"/{old_code}", HTTP_HOST="s.acme.test").status_code == 302
    assert client.get(f"/{new_code}", HTTP_HOST="s.cplry.com").status_code == 302
    assert client.get(f"/{old_code}", HTTP_HOST="s.cplry.com").status_code == 404
    assert client.get(f"/{new_code}", HTTP_HOST="s.acme.test").status_code == 404


def test_deployment_short_host_serves_default_codes_at_the_root(client, settings, hosts, link, messages):
    # given a deployment whose base URL is a short host of its own
    settings.SHORT_LINK_BASE_URL = "https://s.cplry.com/"
    code = codes.encode(link.pk, messages[0].pk)

    assert short_links.short_link_base(org=link.campaign.org) == "s.cplry.com/"
    assert client.get(f"/{code}", HTTP_HOST="s.cplry.com").status_code == 302
    assert client.get(f"/s/{code}").status_code == 302


def test_org_domain_equal_to_the_deployment_host_mints_default_links(settings, org, template):
    settings.SHORT_LINK_BASE_URL = "https://s.cplry.com/"
    org.short_domain = "S.Cplry.com"
    assert short_domains.minting_domain(org=org) == ""
    org.short_domain = "https://s.acme.test/"
    assert short_domains.minting_domain(org=org) == "s.acme.test"


@pytest.mark.parametrize("path", ["/", "/favicon.ico", "/a/b/c", "/s/x", "/admin/", "/campaigns/", "/%F0%9F%99%82"])
def test_other_paths_on_a_short_domain_get_the_friendly_404(client, acme_on_own_domain, path):
    response = client.get(path, HTTP_HOST="s.acme.test")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_unlisted_host_is_refused_by_allowed_hosts(client, settings, org):
    settings.ALLOWED_HOSTS = ["testserver"]
    org.short_domain = "s.acme.test"
    org.save()
    short_domains.short_domains_forget()
    assert client.get("/7383936D89", HTTP_HOST="s.acme.test").status_code == 400


def test_routing_by_host_reads_nothing_once_the_domains_are_loaded(acme_on_own_domain, django_assert_num_queries):
    assert short_domains.request_short_domain("s.acme.test") == "s.acme.test"  # loads the set
    with django_assert_num_queries(0):
        assert short_domains.request_short_domain("s.acme.test:443") == "s.acme.test"
        assert short_domains.request_short_domain("testserver") is None


def test_new_short_domain_is_routed_as_soon_as_the_org_is_saved(
    client, org, hosts, template, customers, django_capture_on_commit_callbacks
):
    # given the set of domains already loaded without s.acme.test
    assert short_domains.request_short_domain("s.acme.test") is None

    # when support gives the org that domain
    with django_capture_on_commit_callbacks(execute=True):
        org.short_domain = "s.acme.test"
        org.save(update_fields=["short_domain"])

    # then this process routes it at once
    assert short_domains.request_short_domain("s.acme.test") == "s.acme.test"


def test_removed_short_domain_stops_being_routed(org, hosts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        Org.objects.filter(pk=org.pk).update(short_domain="s.acme.test")
        org.refresh_from_db()
        org.save()
    assert short_domains.request_short_domain("s.acme.test") == "s.acme.test"

    with django_capture_on_commit_callbacks(execute=True):
        org.short_domain = ""
        org.save()

    assert short_domains.request_short_domain("s.acme.test") is None


def test_minting_records_the_domain_on_the_link(acme_on_own_domain, template):
    link = link_for(CampaignFactory(template=template))
    assert ShortLink.objects.get(pk=link.pk).short_domain == "s.acme.test"


@pytest.mark.parametrize(
    ("domain", "problem"),
    [
        ("s.acme.test", None),
        ("", None),
        ("not a domain", "is not a domain name"),
        ("localhost", "is not a domain name"),
        ("s.unlisted.test", "add it (or a wildcard such as .unlisted.test) to ALLOWED_HOSTS"),
    ],
)
def test_short_domain_problems_say_what_to_fix(hosts, domain, problem):
    problems = short_domains.short_domain_problems(domain=domain)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_short_domain_answers_with_the_security_headers_and_no_session(client, acme_on_own_domain, template, customers):
    campaign = CampaignFactory(template=template)
    code = codes.encode(link_for(campaign).pk, make_messages(campaign, customers[:1])[0].pk)

    for response in (
        client.get(f"/{code}", HTTP_HOST="s.acme.test"),
        client.get("/nothing-here", HTTP_HOST="s.acme.test"),
    ):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert "Set-Cookie" not in response and "Vary" not in response


def test_post_on_a_short_domain_is_refused(client, acme_on_own_domain, template, customers):
    campaign = CampaignFactory(template=template)
    code = codes.encode(link_for(campaign).pk, make_messages(campaign, customers[:1])[0].pk)
    assert client.post(f"/{code}", HTTP_HOST="s.acme.test").status_code == 405
    assert not Click.objects.exists()


def test_short_domain_serves_the_stylesheet_its_pages_link(acme_on_own_domain, settings, tmp_path):
    """The "link not found" and "where this link leads" pages link the app's stylesheet by a path on their own host,
    which in production (DEBUG off, collected static files) the short domain serves like the app's host does."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", "--noinput", verbosity=0)
    client = Client()  # a new handler: its middleware reads the collected files

    page = client.get("/nothing-here", HTTP_HOST="s.acme.test").content.decode()
    stylesheet = client.get(static("linktrack/site.css"), HTTP_HOST="s.acme.test")

    assert f'<link rel="stylesheet" href="{static("linktrack/site.css")}">' in page
    assert stylesheet.status_code == 200 and stylesheet["Content-Type"].startswith("text/css")
    assert b".standalone" in b"".join(stylesheet.streaming_content)
    assert stylesheet["X-Content-Type-Options"] == "nosniff"
    missing = client.get("/static/linktrack/missing.css", HTTP_HOST="s.acme.test")
    assert missing.status_code == 404 and "This link does not work" in missing.content.decode()


def test_the_apps_own_host_keeps_its_pages_even_when_links_were_minted_on_it(client, org, settings):
    # given an org whose short domain was set to the app's own host before that was refused, with links minted on it
    settings.ALLOWED_HOSTS = ["testserver", "app.acme.test"]
    settings.PUBLIC_BASE_URL = "https://app.acme.test"
    Org.objects.filter(pk=org.pk).update(short_domain="app.acme.test")
    short_domains.short_domains_forget()

    # then the app's pages still answer on it, not as short links
    assert client.get("/healthz", HTTP_HOST="app.acme.test").status_code == 200
    assert client.get("/accounts/login/", HTTP_HOST="app.acme.test").status_code == 200
    assert short_domains.request_short_domain("app.acme.test") is None
    assert short_domains.short_domain_problems(domain="app.acme.test") == [
        "app.acme.test is this app's own address: its pages are served there, so short links cannot be."
    ]
