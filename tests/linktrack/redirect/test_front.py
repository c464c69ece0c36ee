"""The short-domain front (linktrack/redirect/front.py) answers a click on a short domain before Django: whatever it
answers is what the Django path answers, byte for byte, with the same click recorded once; anything else is Django's."""

from datetime import timedelta

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client
from django.utils import timezone

from campaigns.models import Campaign
from linktrack.models import Click, ShortLink
from linktrack.redirect import click_flush, codes, link_cache
from linktrack.redirect.front import ShortDomainFront
from linktrack.redirect.short_domains import short_domains
from tests.factories import CampaignFactory, make_messages
from tests.linktrack.helpers import PHONE_UA, link_for, path_for
from tests.linktrack.redirect.test_click_faults import _get, sent_and_never_sent, stream_redis  # noqa: F401  (fixtures)
from tests.linktrack.redirect.wsgi_client import WsgiClient
from tests.local_peers import free_port, running_web_server

WHATSAPP = "WhatsApp/2.23.20.0 A"


def _answer(response) -> tuple:
    headers = getattr(response, "wire_headers", None) or list(response.items())
    return response.status_code, headers, response.content


def _clicks() -> list[tuple]:
    return list(Click.objects.order_by("pk").values_list("short_link_id", "message_id", "is_bot", "user_agent"))


def _requests(acme_on_own_domain, template, customers) -> dict[str, dict]:
    campaign = CampaignFactory(template=template, utm_params={"utm_source": "sms"})
    message, other = make_messages(campaign, customers[:2])
    link = link_for(campaign)
    code = codes.encode(link.pk, message.pk)
    stranger = make_messages(CampaignFactory(template=template), customers[2:3])[0]
    expired = CampaignFactory(template=template, expired_link_url="https://acme.test/over")
    expired_link = link_for(expired, "https://acme.test/old")
    ShortLink.objects.filter(pk=expired_link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    gone = CampaignFactory(template=template)
    gone_link = link_for(gone, "https://acme.test/gone")
    ShortLink.objects.filter(pk=gone_link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    host = {"HTTP_HOST": "s.acme.test", "HTTP_USER_AGENT": PHONE_UA}
    return {
        "click": {"path": f"/{code}", **host},
        "trailing slash": {"path": f"/{code}/", **host},
        "lower case": {"path": f"/{code.lower()}", **host},
        "head": {"path": f"/{code}", "method": "head", **host},
        "post": {"path": f"/{code}", "method": "post", **host},
        "link preview": {"path": f"/{code}", "HTTP_HOST": "s.acme.test", "HTTP_USER_AGENT": WHATSAPP},
        "without a message": {"path": f"/{codes.encode(link.pk, 0)}", **host},
        "unknown code": {"path": "/zzzzzzzzzz", **host},
        "forged": {"path": f"/{codes.encode(link.pk, stranger.pk)}", **host},
        "wrong domain": {"path": f"/{code}", "HTTP_HOST": "s.cplry.com", "HTTP_USER_AGENT": PHONE_UA},
        "expired, with a page to go to": {"path": f"/{codes.encode(expired_link.pk, 0)}", **host},
        "expired": {"path": f"/{codes.encode(gone_link.pk, 0)}", **host},
        "inspect": {"path": f"/{code}+", **host},
        "root": {"path": "/", **host},
        "over https": {"path": f"/{code}", "HTTP_X_FORWARDED_PROTO": "https", **host},
        "host not allowed": {"path": f"/{code}", "HTTP_HOST": "s.unknown.test"},
        "app host": {"path": path_for(link, other)},
    }


CASES = [
    "click", "trailing slash", "lower case", "head", "post", "link preview", "without a message", "unknown code",
    "forged", "wrong domain", "expired, with a page to go to", "expired", "inspect", "root", "over https",
    "host not allowed", "app host",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_the_front_answers_as_django_does_and_records_the_click_once(
    case, settings, acme_on_own_domain, template, customers
):
    # given HSTS on https answers behind a proxy, and a request of each kind
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    request = _requests(acme_on_own_domain, template, customers)[case]
    method = request.pop("method", "get")

    # when it is sent through Django alone, then through the project's WSGI entry (the front, then Django)
    django_answer = _answer(getattr(Client(), method)(**request))
    by_django = _clicks()
    front_answer = _answer(getattr(WsgiClient(), method)(**request))
    by_both = _clicks()

    # then both answered the same status, headers (in order) and body, and each recorded the same click
    assert front_answer == django_answer
    assert by_both[len(by_django) :] == by_django
    if case in ("click", "head", "link preview", "over https"):
        assert front_answer[0] == 302 and len(by_django) == 1
        assert dict(front_answer[1])["Content-Length"] == "0"
    if case == "over https":
        assert dict(front_answer[1])["Strict-Transport-Security"] == "max-age=3600"


def test_a_changed_setting_reaches_the_fronts_next_click(settings, acme_on_own_domain, template, customers):
    # given a click on a short domain answered by the front with frames refused
    campaign = CampaignFactory(template=template)
    code = codes.encode(link_for(campaign).pk, make_messages(campaign, customers[:1])[0].pk)
    click = {"path": f"/{code}", "HTTP_HOST": "s.acme.test", "HTTP_USER_AGENT": PHONE_UA}
    assert dict(WsgiClient().get(**click).wire_headers)["X-Frame-Options"] == "DENY"

    # when the settings change, then the next click follows them
    settings.X_FRAME_OPTIONS = "SAMEORIGIN"
    settings.SECURE_REFERRER_POLICY = "no-referrer"
    headers = dict(WsgiClient().get(**click).wire_headers)
    assert headers["X-Frame-Options"] == "SAMEORIGIN" and headers["Referrer-Policy"] == "no-referrer"


def test_with_redis_down_a_click_on_a_short_domain_is_stored_at_once(settings, acme_on_own_domain, template, customers):
    # given the click stream and link cache on a Redis that is not there
    settings.CLICK_STREAM_URL = settings.SHORT_LINK_CACHE_URL = f"redis://127.0.0.1:{free_port()}/0"
    campaign = CampaignFactory(template=template)
    message = make_messages(campaign, customers[:1])[0]
    code = codes.encode(link_for(campaign).pk, message.pk)

    # when a phone opens the short link through the front
    response = WsgiClient().get(f"/{code}", HTTP_HOST="s.acme.test", HTTP_USER_AGENT=PHONE_UA)

    # then it redirects, and the click is stored in the database there and then
    assert response.status_code == 302
    assert Click.objects.get().message == message


@pytest.mark.django_db(transaction=True)
def test_a_click_that_opened_a_database_connection_closes_it_at_its_end(acme_on_own_domain, template, customers):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("an in-memory SQLite database is never closed")
    # given a link not in the link cache, the short domains just read, and no database connection open
    campaign = CampaignFactory(template=template)
    link = link_for(campaign)
    code = codes.encode(link.pk, make_messages(campaign, customers[:1])[0].pk)
    link_cache.short_link_forget(short_link_id=link.pk)
    short_domains()
    connection.close()

    # when a phone opens it through the project's WSGI entry, which reads the link from the database
    answer = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/{code}",
        "HTTP_HOST": "s.acme.test",
        "HTTP_USER_AGENT": PHONE_UA,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
    }
    ShortDomainFront(WSGIHandler())(environ, lambda status, headers, exc_info=None: answer.append(status))

    # then it redirected, and the connection it opened was closed as at the end of any request (CONN_MAX_AGE 0)
    assert answer == ["302 Found"]
    assert connection.connection is None


def test_through_gunicorn_with_the_database_down_a_sent_link_redirects_and_another_asks_to_try_again(
    stream_redis,  # noqa: F811
    sent_and_never_sent,  # noqa: F811
):
    # given a campaign whose messages were prepared (its links cached then), and a link that never went out
    links = sent_and_never_sent
    campaign, sent, sent_link, unsent_link, unsent = (
        links.campaign, links.sent, links.sent_link, links.unsent_link, links.unsent
    )  # fmt: skip

    # when gunicorn serves the deployment's short host (codes at its root) with its database gone
    gone = f"postgres://postgres@127.0.0.1:{free_port()}/gone"
    short_host = {"SHORT_LINK_BASE_URL": "https://s.cplry.com/", "ALLOWED_HOSTS": "127.0.0.1,s.cplry.com"}
    with running_web_server(DATABASE_URL=gone, REDIS_URL=stream_redis.url, **short_host) as base:
        redirected = _get(base, "/" + codes.encode(sent_link.pk, sent.pk), host="s.cplry.com")
        unavailable = _get(base, "/" + codes.encode(unsent_link.pk, unsent.pk), host="s.cplry.com")

    # then the sent link redirects from the cache with the Django path's headers, and its click waits in the stream
    assert redirected.status == 302 and redirected.getheader("Location") == "https://acme.test/t"
    assert redirected.getheader("Cache-Control") == "private, no-store"
    assert redirected.getheader("Referrer-Policy") == "same-origin"
    assert redirected.getheader("X-Frame-Options") == "DENY"
    assert redirected.getheader("Content-Length") == "0" and redirected.getheader("Transfer-Encoding") is None
    # and the other gets the page asking to try again in a minute
    assert unavailable.status == 503 and unavailable.getheader("Retry-After") == "60"
    assert "Please try again in a minute" in unavailable.body
    # and once the database is back the flush stores the click, once
    click_flush.clicks_flush()
    assert Click.objects.filter(message=sent).count() == 1
    assert Campaign.objects.filter(pk=campaign.pk).exists()
