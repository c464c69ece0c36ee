"""The redirect: 302 to the destination with the campaign's UTM parameters, and a friendly 404 for every code
that does not lead to a link this system minted."""

import socket
from datetime import timedelta

import pytest
from django.core.cache import cache as django_cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linktrack.models import Click, ShortLink
from linktrack.redirect import codes, link_cache
from linktrack.redirect import resolve as redirect
from tests.factories import CampaignFactory, make_messages
from tests.linktrack.helpers import PHONE_UA, link_for, path_for


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_click_redirects_to_the_destination_with_the_campaigns_utm_parameters(client, link, messages):
    # when a recipient opens their short link
    response = client.get(path_for(link, messages[0]), HTTP_USER_AGENT=PHONE_UA)

    # then they go to the destination, its query and fragment kept and the UTM parameters appended
    assert response.status_code == 302
    assert response["Location"] == "https://shop.acme.test/sale?x=1&utm_source=sms&utm_campaign=diwali#top"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("destination", "utm", "location"),
    [
        ("https://a.test/p", {"utm_source": "sms"}, "https://a.test/p?utm_source=sms"),
        ("https://a.test/p?x=1", {"utm_source": "sms"}, "https://a.test/p?x=1&utm_source=sms"),
        ("https://a.test/p#frag", {"utm_source": "sms"}, "https://a.test/p?utm_source=sms#frag"),
        # the link's own value of a parameter wins and is not duplicated
        (
            "https://a.test/?utm_source=newsletter&x=1",
            {"utm_source": "sms", "utm_medium": "text"},
            "https://a.test/?utm_source=newsletter&x=1&utm_medium=text",
        ),
        ("https://a.test/?utm_source=", {"utm_source": "sms"}, "https://a.test/?utm_source="),
        # the destination's own encoding is kept byte for byte
        ("https://a.test/s?q=a+b&r=%2F", {"utm_source": "sms"}, "https://a.test/s?q=a+b&r=%2F&utm_source=sms"),
        (
            "https://a.test/p",
            {"utm_campaign": "diwali sale & more"},
            "https://a.test/p?utm_campaign=diwali+sale+%26+more",
        ),
        ("https://a.test/p", {}, "https://a.test/p"),
        ("https://a.test/p", None, "https://a.test/p"),
        ("HTTPS://a.test:8443/p", {"utm_source": "sms"}, "https://a.test:8443/p?utm_source=sms"),
        # IDN host in punycode, Unicode path percent-encoded: a Location header is ASCII
        ("https://bücher.example/straße", {}, "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://दुकान.भारत/sale", {"utm_source": "sms"}, "https://xn--11b7ah1gn.xn--h2brj9c/sale?utm_source=sms"),
        ("javascript:alert(1)", {}, None),
        ("data:text/html,hi", {}, None),
        ("ftp://files.test/a", {}, None),
        ("https:///nohost", {}, None),
        ("https://a.test:99999/", {}, None),
    ],
)
def test_redirect_location(destination, utm, location):
    assert redirect.redirect_location(destination, utm) == location


def test_head_request_is_redirected_and_recorded_as_a_bot(client, link, messages):
    response = client.head(path_for(link, messages[0]), HTTP_USER_AGENT=PHONE_UA)

    assert response.status_code == 302 and response["Location"].startswith("https://shop.acme.test/sale")
    click = Click.objects.get()
    assert click.is_bot and click.user_agent == PHONE_UA


def test_post_is_refused_and_not_recorded(client, link, messages):
    assert client.post(path_for(link, messages[0])).status_code == 405
    assert not Click.objects.exists()


def _assert_friendly_404(response, *, expired=False):
    assert response.status_code == 404
    assert response["Cache-Control"] == "private, no-store"
    assert "Location" not in response
    page = response.content.decode()
    assert ('data-problem="expired"' in page) is expired
    assert ("This link does not work" in page) is not expired


@pytest.mark.parametrize(
    "path",
    [
        "/s/NOTACODE00",
        "/s/é漢字",
        "/s/" + "A" * 5000,
        "/s/%00%01",
        "/s/0000000000",
        "/s/https:evil.test",
    ],
)
def test_malformed_code_gets_the_friendly_404(client, link, path):
    _assert_friendly_404(client.get(path, HTTP_USER_AGENT=PHONE_UA))
    assert not Click.objects.exists()


def test_unknown_code_gets_the_friendly_404(client, link, messages):
    # a well-formed code of this deployment for a link that does not exist
    response = client.get("/s/" + codes.encode(link.pk + 1000, messages[0].pk), HTTP_USER_AGENT=PHONE_UA)
    _assert_friendly_404(response)


def test_code_of_a_deleted_link_gets_the_friendly_404(client, link, messages, django_capture_on_commit_callbacks):
    path = path_for(link, messages[0])
    assert client.get(path).status_code == 302  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        link.delete()
    _assert_friendly_404(client.get(path, HTTP_USER_AGENT=PHONE_UA))


def test_forged_code_with_another_campaigns_message_gets_the_friendly_404(client, template, link, customers):
    # given a message of another campaign (decodes with the real salt, but is not one of the link's recipients)
    other_message = make_messages(CampaignFactory(template=template, name="Other"), customers[:1])[0]

    # when someone pairs the link with that message id
    response = client.get(path_for(link, other_message), HTTP_USER_AGENT=PHONE_UA)

    # then no redirect and no click
    _assert_friendly_404(response)
    assert not Click.objects.exists()


def test_code_with_a_message_that_does_not_exist_gets_the_friendly_404(client, link, messages):
    response = client.get("/s/" + codes.encode(link.pk, messages[-1].pk + 500), HTTP_USER_AGENT=PHONE_UA)
    _assert_friendly_404(response)


def test_expired_link_says_it_expired(client, link, messages):
    ShortLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = client.get(path_for(link, messages[0]), HTTP_USER_AGENT=PHONE_UA)

    _assert_friendly_404(response, expired=True)
    assert not Click.objects.exists()


def test_link_expiring_later_still_redirects(client, link, messages):
    ShortLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() + timedelta(days=1))
    assert client.get(path_for(link, messages[0])).status_code == 302


def test_link_with_an_unsafe_destination_is_never_redirected_to(client, campaign, messages):
    # given a link row edited to an unsafe destination behind the service's back
    link = link_for(campaign)
    ShortLink.objects.filter(pk=link.pk).update(destination="javascript:alert(document.cookie)")

    _assert_friendly_404(client.get(path_for(link, messages[0]), HTTP_USER_AGENT=PHONE_UA))


def test_changed_destination_is_used_on_the_next_click(client, link, messages, django_capture_on_commit_callbacks):
    path = path_for(link, messages[0])
    assert client.get(path)["Location"].startswith("https://shop.acme.test/sale")  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        link.destination = "https://shop.acme.test/new"
        link.save()

    assert client.get(path)["Location"] == "https://shop.acme.test/new?utm_source=sms&utm_campaign=diwali"


def test_changed_utm_parameters_are_used_on_the_next_click(
    client, campaign, link, messages, django_capture_on_commit_callbacks
):
    path = path_for(link, messages[0])
    assert "utm_campaign=diwali" in client.get(path)["Location"]  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        campaign.utm_params = {"utm_source": "sms", "utm_campaign": "holi"}
        campaign.save()

    assert client.get(path)["Location"] == "https://shop.acme.test/sale?x=1&utm_source=sms&utm_campaign=holi#top"


def test_cached_click_reads_nothing_from_the_database(
    client, link, messages, click_stream, settings, django_assert_num_queries
):
    # given the link and message already cached by a first click, and the click stream on Redis
    path = path_for(link, messages[0])
    client.get(path, HTTP_USER_AGENT=PHONE_UA)

    # when the next click comes
    with django_assert_num_queries(0):
        response = client.get(path, HTTP_USER_AGENT=PHONE_UA)

    # then it is redirected and noted on the stream without any query
    assert response.status_code == 302
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 2


def test_redirect_works_when_the_cache_is_down(client, settings, link, messages):
    # given a cache server that refuses connections
    settings.SHORT_LINK_CACHE_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    # when a recipient clicks, the database answers instead
    response = client.get(path_for(link, messages[0]), HTTP_USER_AGENT=PHONE_UA)

    assert response.status_code == 302 and response["Location"].startswith("https://shop.acme.test/sale")
    assert Click.objects.count() == 1


def test_link_shared_without_a_recipient_redirects(client, link):
    response = client.get(path_for(link), HTTP_USER_AGENT=PHONE_UA)
    assert response.status_code == 302
    assert Click.objects.get().message is None


@pytest.mark.redis
def test_prepared_messages_are_cached_in_redis_and_their_clicks_read_nothing_from_the_database(
    client, link, messages, click_stream, redis_url, settings, monkeypatch
):
    # given the link cache on Redis, written two keys per command so that the messages take several
    settings.SHORT_LINK_CACHE_URL = redis_url
    monkeypatch.setattr(link_cache, "_SET_CHUNK", 2)
    cache = link_cache.cache_client()
    cache.delete(*[link_cache.message_key(m.pk) for m in messages], link_cache.link_key(link.pk))

    # when the campaign's messages are prepared
    redirect.campaign_links_cache(campaign_id=link.campaign_id, message_ids=[m.pk for m in messages])

    # then each message names its campaign for SHORT_LINK_CACHE_SECONDS, and no click of theirs reads a link or a
    # message from the database
    for message in messages:
        key = link_cache.message_key(message.pk)
        assert cache.get(key) == str(link.campaign_id)
        assert settings.SHORT_LINK_CACHE_SECONDS - 5 < cache.ttl(key) <= settings.SHORT_LINK_CACHE_SECONDS
    assert len(messages) > 2
    with CaptureQueriesContext(connection) as queries:
        responses = [client.get(path_for(link, m), HTTP_USER_AGENT=PHONE_UA) for m in messages]
    assert [r.status_code for r in responses] == [302] * len(messages)
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "delivery_message" not in read and "linktrack_shortlink" not in read


def test_prepared_messages_are_cached_in_djangos_cache_without_redis(client, link, messages, settings):
    # given no Redis for the link cache (the embedded mode): Django's cache holds it
    settings.SHORT_LINK_CACHE_URL = ""

    # when the campaign's messages are prepared
    redirect.campaign_links_cache(campaign_id=link.campaign_id, message_ids=[m.pk for m in messages])

    # then each message names its campaign there
    keys = [link_cache.message_key(m.pk) for m in messages]
    assert django_cache.get_many(keys) == dict.fromkeys(keys, str(link.campaign_id))
