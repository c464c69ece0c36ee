"""Every hit is stored with what reports need, and no click is lost or counted twice on the way."""

import socket
import time
from datetime import timedelta

import pytest
import redis
from django.db.models import Sum
from django.utils import timezone

from linktrack import tasks
from linktrack.models import Click, DailyClicks, ShortLink
from linktrack.redirect import click_flush, clicks, codes, redis_clients
from linktrack.redirect import resolve as redirect
from tests.at_once import run_at_once
from tests.factories import CampaignFactory, make_messages
from tests.linktrack.helpers import PHONE_UA, link_for, path_for

WHATSAPP_UA = "WhatsApp/2.23.20.0 A"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_hit_is_stored_with_time_channel_campaign_link_recipient_ip_hash_agent_and_bot_flag(
    client, campaign, link, messages
):
    # when a recipient clicks from a phone, then WhatsApp fetches a preview
    before = time.time()
    client.get(path_for(link, messages[3]), HTTP_USER_AGENT=PHONE_UA, REMOTE_ADDR="203.0.113.7")
    client.get(path_for(link, messages[3]), HTTP_USER_AGENT=WHATSAPP_UA, REMOTE_ADDR="198.51.100.1")

    # then both hits are stored, the preview flagged as a bot
    person, preview = Click.objects.order_by("pk")
    assert before - 1 <= person.clicked_at.timestamp() <= time.time()
    assert (person.channel, person.campaign, person.short_link, person.message) == ("sms", campaign, link, messages[3])
    assert person.ip_hash == clicks.hash_ip("203.0.113.7") and "203.0.113.7" not in person.ip_hash
    assert len(person.ip_hash) == 32
    assert person.user_agent == PHONE_UA and not person.is_bot
    assert preview.is_bot and preview.user_agent == WHATSAPP_UA


def test_client_address_comes_from_the_proxy_header_when_configured(client, settings, link, messages):
    # two proxies of ours: the client as the outer one saw it is the second address from the right
    settings.TRUSTED_PROXY_COUNT = 2
    client.get(path_for(link, messages[0]), HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1", REMOTE_ADDR="10.0.0.1")
    assert Click.objects.get().ip_hash == clicks.hash_ip("203.0.113.9")


def test_email_campaign_clicks_have_the_email_channel(client, template, customers):
    template.channel = "email"
    template.save()
    campaign = CampaignFactory(template=template)
    client.get(path_for(link_for(campaign), make_messages(campaign, customers[:1])[0]), HTTP_USER_AGENT=PHONE_UA)
    assert Click.objects.get().channel == "email"


def test_click_is_stored_synchronously_when_redis_is_down(client, settings, link, messages):
    # given a click stream configured on a Redis that refuses connections
    settings.CLICK_STREAM_URL = f"redis://127.0.0.1:{_closed_port()}/0"

    # when a recipient clicks
    response = client.get(path_for(link, messages[0]), HTTP_USER_AGENT=PHONE_UA)

    # then they are redirected and the click is stored at once
    assert response.status_code == 302
    click = Click.objects.get()
    assert click.message == messages[0] and len(click.event_id) == 32  # the click's own id


def test_click_goes_to_the_stream_not_the_database(client, link, messages, click_stream, settings):
    client.get(path_for(link, messages[0]), HTTP_USER_AGENT=PHONE_UA)

    assert not Click.objects.exists()
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 1
    assert tasks.clicks_flush_task() == 1
    assert Click.objects.get().message == messages[0]
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 0


class _FailingAcknowledgement:
    """The stream client, except that acknowledging (and deleting) a batch fails once: a crash after the insert."""

    def __init__(self, stream):
        self.stream, self.failed = stream, False

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def pipeline(self, *args, **kwargs):
        if not self.failed:
            self.failed = True
            raise ConnectionError("worker killed between insert and acknowledgement")
        return self.stream.pipeline(*args, **kwargs)


def test_flush_crashing_after_insert_before_acknowledging_neither_drops_nor_double_counts(
    client, link, messages, click_stream, settings, monkeypatch
):
    # given 10 clicks on the stream
    for message in messages:
        client.get(path_for(link, message), HTTP_USER_AGENT=PHONE_UA)

    # when the flush stores them and dies before acknowledging and deleting them
    failing = _FailingAcknowledgement(click_stream)
    monkeypatch.setattr(click_flush, "_click_stream", lambda url: failing)
    with pytest.raises(ConnectionError):
        click_flush.clicks_flush()
    assert Click.objects.count() == 10 and click_stream.xlen(settings.CLICK_STREAM_KEY) == 10

    # then its next run takes up the batch it had read, stores nothing twice and empties the stream
    assert click_flush.clicks_flush() == 10
    assert Click.objects.count() == 10
    assert set(Click.objects.values_list("message_id", flat=True)) == {m.pk for m in messages}
    assert DailyClicks.objects.aggregate(total=Sum("total"))["total"] == 10
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 0
    assert click_stream.xpending(settings.CLICK_STREAM_KEY, click_flush.GROUP)["pending"] == 0


def test_flush_crashing_mid_batch_neither_drops_nor_double_counts(
    client, link, messages, click_stream, settings, monkeypatch
):
    # given 10 clicks on the stream, flushed 3 at a time
    for message in messages:
        client.get(path_for(link, message), HTTP_USER_AGENT=PHONE_UA)
    real_store, calls = clicks.clicks_store, []

    def store_then_crash(*, entries):
        calls.append(len(entries))
        if len(calls) == 2:
            raise RuntimeError("database went away in the second batch")
        return real_store(entries=entries)

    # when the second batch's insert fails
    monkeypatch.setattr(click_flush, "clicks_store", store_then_crash)
    with pytest.raises(RuntimeError):
        click_flush.clicks_flush(batch_size=3)
    assert Click.objects.count() == 3 and click_stream.xlen(settings.CLICK_STREAM_KEY) == 7

    # then the next run stores exactly the rest
    monkeypatch.setattr(click_flush, "clicks_store", real_store)
    assert click_flush.clicks_flush(batch_size=3) == 7
    assert Click.objects.count() == 10 and click_stream.xlen(settings.CLICK_STREAM_KEY) == 0


def test_two_flushers_reading_the_same_batch_store_it_once(client, link, messages, click_stream, settings):
    # given 10 clicks, and a flusher that has read them but not yet stored them
    for message in messages:
        client.get(path_for(link, message), HTTP_USER_AGENT=PHONE_UA)
    slow_reader_batch = click_stream.xrange(settings.CLICK_STREAM_KEY, count=100)

    # when another flusher stores and deletes them first, then the slow one stores and deletes its copy
    assert click_flush.clicks_flush() == 10
    clicks.clicks_store(entries=slow_reader_batch)
    click_stream.xdel(settings.CLICK_STREAM_KEY, *[entry_id for entry_id, _ in slow_reader_batch])

    # then each click is stored once
    assert Click.objects.count() == 10


def test_bad_entries_are_skipped_without_blocking_the_stream(
    client, campaign, link, messages, click_stream, settings, django_capture_on_commit_callbacks
):
    # given a malformed entry, a click on a link deleted since, a click whose message is gone, and a good one
    click_stream.xadd(settings.CLICK_STREAM_KEY, {"link": "not-a-number"})
    doomed = link_for(campaign, "https://shop.acme.test/gone")
    client.get(path_for(doomed, messages[0]), HTTP_USER_AGENT=PHONE_UA)
    client.get(path_for(link, messages[1]), HTTP_USER_AGENT=PHONE_UA)
    client.get(path_for(link, messages[2]), HTTP_USER_AGENT=PHONE_UA)
    doomed.delete()
    messages[1].delete()

    # when the flush runs
    assert click_flush.clicks_flush() == 4

    # then only the good click is stored, and the stream is empty
    assert list(Click.objects.values_list("message_id", flat=True)) == [messages[2].pk]
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 0


def test_a_thousand_clicks_through_the_redirect_are_all_stored(client, link, messages, click_stream, settings):
    # given 1,000 clicks through the redirect: 100 per recipient, a few of them link previews
    paths = [path_for(link, message) for message in messages]
    for n in range(1000):
        agent = WHATSAPP_UA if n % 50 == 0 else PHONE_UA
        assert client.get(paths[n % 10], HTTP_USER_AGENT=agent).status_code == 302
    assert not Click.objects.exists()
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 1000

    # when the flush task runs (batches of 1,000 by default; 300 here to cross batch edges)
    settings.CLICK_FLUSH_BATCH = 300
    assert tasks.clicks_flush_task() == 1000

    # then exactly 1,000 clicks are stored
    assert Click.objects.count() == 1000
    assert Click.objects.filter(is_bot=True).count() == 20
    assert Click.objects.values("event_id").distinct().count() == 1000
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 0


@pytest.mark.django_db(transaction=True)
def test_two_flushers_running_at_once_store_every_click_once(postgres, template, customers, click_stream, settings):
    # given 2,000 clicks waiting on the stream
    campaign = CampaignFactory(template=template)
    link = link_for(campaign)
    messages = make_messages(campaign, customers)
    target = redirect.link_resolve(code=path_for(link).removeprefix("/s/"), domain="").target
    for n in range(2000):
        clicks.click_record(
            target=target, message_id=messages[n % 10].pk, ip="203.0.113.1", user_agent=PHONE_UA, method="GET"
        )

    # when two flushers run at the same time, in small batches
    def flush() -> int:
        return click_flush.clicks_flush(batch_size=150)

    results = run_at_once(flush, flush)

    # then they shared the stream (each entry handed to one of them) and every click is stored exactly once
    assert not any(isinstance(result, Exception) for result in results)
    assert sum(results) == 2000
    assert Click.objects.count() == 2000
    assert DailyClicks.objects.aggregate(total=Sum("total"))["total"] == 2000
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 0


def test_a_dead_flushers_batch_is_claimed_after_the_claim_time_and_stored_once(
    client, link, messages, click_stream, settings
):
    # given 10 clicks, 4 of them read by a flusher that died before storing them
    for message in messages:
        client.get(path_for(link, message), HTTP_USER_AGENT=PHONE_UA)
    click_flush.clicks_flush(max_batches=0)  # makes the flushers' group
    key = settings.CLICK_STREAM_KEY
    click_stream.xreadgroup(click_flush.GROUP, "dead-host:1", {key: ">"}, count=4)

    # when a flusher runs before the claim time, it stores the other 6 and leaves the dead one's 4 waiting
    settings.CLICK_FLUSH_CLAIM_SECONDS = 60
    assert click_flush.clicks_flush() == 6
    assert Click.objects.count() == 6 and click_stream.xlen(key) == 4

    # then once they have waited long enough it claims them: every click stored and counted once
    settings.CLICK_FLUSH_CLAIM_SECONDS = 0
    assert click_flush.clicks_flush() == 4
    assert Click.objects.count() == 10 and DailyClicks.objects.aggregate(total=Sum("total"))["total"] == 10
    assert click_stream.xlen(key) == 0 and click_stream.xpending(key, click_flush.GROUP)["pending"] == 0


def test_entries_appended_before_the_flushers_group_existed_are_flushed(link, messages, click_stream, settings):
    # given clicks waiting on a stream that an older flush (reading with XRANGE) left without a consumer group
    target = redirect.link_resolve(code=path_for(link, messages[0]).removeprefix("/s/"), domain="").target
    for message in messages[:3]:
        clicks.click_record(target=target, message_id=message.pk, ip="", user_agent=PHONE_UA, method="GET")
    assert not click_stream.xinfo_groups(settings.CLICK_STREAM_KEY)

    # when the flush runs, it reads the stream from its start
    assert click_flush.clicks_flush() == 3
    assert Click.objects.count() == 3


def test_flushers_idle_for_a_day_with_nothing_pending_are_forgotten(click_stream, settings):
    # given a flusher that read nothing for a day and one that holds an entry
    key = settings.CLICK_STREAM_KEY
    click_flush.clicks_flush(max_batches=0)
    click_stream.xadd(key, {"link": "1"})
    click_stream.xreadgroup(click_flush.GROUP, "busy-host:2", {key: ">"}, count=1)
    click_stream.xgroup_createconsumer(key, click_flush.GROUP, "gone-host:1")
    settings.CLICK_FLUSH_CLAIM_SECONDS = 3600

    # when a flush runs with a day counted as nothing
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(click_flush, "IDLE_FLUSHER_MS", -1)
        click_flush.clicks_flush(max_batches=0)

    # then only the idle flusher with nothing pending is forgotten
    names = {flusher["name"] for flusher in click_stream.xinfo_consumers(key, click_flush.GROUP)}
    assert "gone-host:1" not in names and "busy-host:2" in names


@pytest.mark.parametrize("kind", ["forged", "expired", "wrong domain", "unknown link"])
def test_click_appended_before_its_code_failed_is_not_stored(
    kind, client, template, campaign, link, messages, customers, click_stream, settings
):
    # given a code that decodes but must not count (the redirect appends the click while it reads the cache)
    path = path_for(link, messages[0])
    if kind == "forged":
        path = path_for(link, make_messages(CampaignFactory(template=template, name="Other"), customers[:1])[0])
    elif kind == "expired":
        ShortLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif kind == "wrong domain":
        ShortLink.objects.filter(pk=link.pk).update(short_domain="s.elsewhere.test")
    elif kind == "unknown link":
        path = "/s/" + codes.encode(link.pk + 1000, messages[0].pk)

    # when it is requested, then flushed
    assert client.get(path, HTTP_USER_AGENT=PHONE_UA).status_code == 404
    click_flush.clicks_flush()

    # then nothing is stored and the stream is empty
    assert not Click.objects.exists()
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 0


def test_cached_click_costs_one_redis_round_trip_when_stream_and_cache_share_redis(
    client, link, messages, click_stream, settings, monkeypatch
):
    # given a cached link, the link cache and the click stream on the same Redis
    assert settings.SHORT_LINK_CACHE_URL == settings.CLICK_STREAM_URL
    path = path_for(link, messages[0])
    client.get(path, HTTP_USER_AGENT=PHONE_UA)
    round_trips = []
    send = redis.connection.Connection.send_packed_command

    def counting_send(self, *args, **kwargs):
        round_trips.append(1)
        return send(self, *args, **kwargs)

    # when the next click comes
    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting_send)
    response = client.get(path, HTTP_USER_AGENT=PHONE_UA)

    # then reading the link and appending the click went to Redis in one round trip
    assert response.status_code == 302
    assert len(round_trips) == 1
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 2


def test_a_click_after_redis_closed_the_redirects_connection_still_goes_to_the_stream(
    client, link, messages, click_stream, settings
):
    # given a click answered (the redirect's connection to Redis open), then Redis closing that connection
    path = path_for(link, messages[0])
    client.get(path, HTTP_USER_AGENT=PHONE_UA)
    connection = redis_clients._this_thread.held[1]
    connection.send_command("CLIENT", "ID")
    click_stream.client_kill_filter(_id=connection.read_response())

    # when the next click comes
    response = client.get(path, HTTP_USER_AGENT=PHONE_UA)

    # then it went to the stream on a new connection: not stored directly, Redis not given up on
    assert response.status_code == 302
    assert click_stream.xlen(settings.CLICK_STREAM_KEY) == 2
    assert not Click.objects.exists()
    assert redis_clients.redis_usable(settings.CLICK_STREAM_URL)


def test_agent_with_a_nul_character_does_not_block_its_batch(link, messages, click_stream, settings):
    # given a click whose agent holds a NUL character (PostgreSQL refuses those in text) and a normal one
    target = redirect.link_resolve(code=path_for(link, messages[0]).removeprefix("/s/"), domain="").target
    clicks.click_record(target=target, message_id=messages[0].pk, ip="", user_agent="bad\x00agent", method="GET")
    clicks.click_record(target=target, message_id=messages[1].pk, ip="", user_agent=PHONE_UA, method="GET")

    # when the flush runs, both are stored
    assert click_flush.clicks_flush() == 2
    assert sorted(Click.objects.values_list("user_agent", flat=True)) == sorted(["badagent", PHONE_UA])
