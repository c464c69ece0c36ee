"""Clicks when Redis or PostgreSQL fails, against real processes: a Redis server of the test's own (stalled with
SIGSTOP, stopped, started again) and the project under gunicorn with DEBUG off and its database gone."""

import http.client
import threading
import time
from types import SimpleNamespace

import pytest
import redis
from django.core import checks
from django.db import connection

from delivery.models import Message
from linktrack.counts.click_counts import click_counts
from linktrack.models import Click, ShortLink
from linktrack.redirect import click_flush, clicks
from tests.factories import CampaignFactory, make_messages
from tests.linktrack.helpers import PHONE_UA, link_for, path_for
from tests.local_peers import free_port, own_redis, running_web_server


@pytest.fixture
def stream_redis(settings):
    """A Redis of this test's own holding the click stream and the link cache (one round trip per click)."""
    with own_redis() as server:
        settings.CLICK_STREAM_URL = settings.SHORT_LINK_CACHE_URL = server.url
        yield server


def _click(client, link, message) -> float:
    """Seconds one click took; it must redirect."""
    started = time.monotonic()
    response = client.get(path_for(link, message), HTTP_USER_AGENT=PHONE_UA)
    assert response.status_code == 302
    return time.monotonic() - started


def _stream_length(server) -> int:
    return redis.Redis(port=server.port).xlen("linktrack:clicks")


def test_a_click_whose_append_timed_out_in_a_stall_is_stored_once(client, link, messages, stream_redis):
    # given clicks going to the stream, whose connection is open
    _click(client, link, messages[0])

    # when Redis stalls while three recipients click (the first append times out; the clicks are stored directly)
    stream_redis.stall()
    for message in messages[1:4]:
        _click(client, link, message)
    assert Click.objects.count() == 3

    # and Redis wakes, running the append that timed out, and the flush stores the stream
    stream_redis.resume()
    time.sleep(0.3)
    in_stream = _stream_length(stream_redis)
    click_flush.clicks_flush()

    # then the append that ran late is the same click: each click is stored and counted once
    assert in_stream == 2, "the timed-out append did not run when Redis woke: the test proves nothing"
    assert Click.objects.count() == 4
    assert sorted(Click.objects.values_list("message_id", flat=True)) == sorted(m.pk for m in messages[:4])
    assert click_counts(campaign_id=link.campaign_id).total == 4


def test_an_event_appended_before_clicks_had_their_own_id_is_stored_under_its_stream_id(
    link, messages, stream_redis, settings
):
    event = clicks.click_event(link.pk, messages[0].pk, domain="", ip="203.0.113.7", user_agent=PHONE_UA, method="GET")
    del event["id"]
    entry_id = redis.Redis(port=stream_redis.port).xadd(settings.CLICK_STREAM_KEY, event).decode()

    assert click_flush.clicks_flush() == 1
    assert Click.objects.get().event_id == entry_id


def test_the_same_click_twice_in_one_batch_is_stored_and_counted_once(link, messages):
    event = clicks.click_event(link.pk, messages[0].pk, domain="", ip="203.0.113.7", user_agent=PHONE_UA, method="GET")

    assert clicks.clicks_store(entries=[(event["id"], event), (event["id"], event)]) == 1
    assert Click.objects.count() == 1 and click_counts(campaign_id=link.campaign_id).total == 1


@pytest.mark.parametrize("fault", ["stalled", "stopped"])
def test_while_redis_is_out_clicks_wait_for_it_once_then_go_without_it(
    fault, client, link, messages, stream_redis, settings
):
    # given clicks going to the stream, and a retry after 2 s
    settings.CLICK_STREAM_RETRY_SECONDS = 2
    _click(client, link, messages[0])
    click_flush.clicks_flush()

    # when Redis stalls (or stops) and 30 clicks come
    stream_redis.stall() if fault == "stalled" else stream_redis.stop()
    started = time.monotonic()
    waits = [_click(client, link, messages[n % 10]) for n in range(30)]
    elapsed = time.monotonic() - started
    print(f"Redis {fault}: 30 clicks in {elapsed:.2f} s ({30 / elapsed:.0f}/s), slowest {max(waits):.2f} s")

    # then only the first waits (at most the 0.5 s timeout) and every click is stored directly, once
    assert sorted(waits)[-2] < 0.25, "more than one click waited for Redis"
    assert Click.objects.count() == 31

    # and once Redis is back and the pause is over, clicks go to the stream again
    stream_redis.resume() if fault == "stalled" else stream_redis.start()
    time.sleep(max(0.0, 2.6 - (time.monotonic() - started)))  # the first click failed at 0.5 s at the latest
    before = _stream_length(stream_redis)
    _click(client, link, messages[0])
    assert _stream_length(stream_redis) == before + 1
    click_flush.clicks_flush()
    assert Click.objects.count() == 32 and click_counts(campaign_id=link.campaign_id).total == 32


def _get(base: str, path: str, host: str | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
    connection.request("GET", path, headers={"User-Agent": PHONE_UA, **({"Host": host} if host else {})})
    response = connection.getresponse()
    response.body = response.read().decode()
    connection.close()
    return response


@pytest.fixture
def sent_and_never_sent(send_campaign, template, customers) -> SimpleNamespace:
    """A campaign whose messages were prepared (its links cached then), its first message and link; and a link of
    another campaign that never went out, with its message."""
    campaign = send_campaign()
    other = CampaignFactory(template=template)
    return SimpleNamespace(
        campaign=campaign,
        sent=Message.objects.filter(campaign=campaign).order_by("pk").first(),
        sent_link=ShortLink.objects.get(campaign=campaign),
        unsent_link=link_for(other, "https://acme.test/never-sent"),
        unsent=make_messages(other, customers[:1])[0],
    )


def test_with_the_database_down_a_sent_link_redirects_and_another_asks_to_try_again(
    settings, stream_redis, sent_and_never_sent
):
    # given a campaign whose messages were prepared (its links cached then), and a link that never went out
    links = sent_and_never_sent
    campaign, sent, sent_link, unsent_link, unsent = (
        links.campaign, links.sent, links.sent_link, links.unsent_link, links.unsent
    )  # fmt: skip

    # when the app runs with its database gone (nothing listens on its port)
    gone = f"postgres://postgres@127.0.0.1:{free_port()}/gone"
    with running_web_server(DATABASE_URL=gone, REDIS_URL=stream_redis.url) as base:
        redirected = _get(base, path_for(sent_link, sent))
        unavailable = _get(base, path_for(unsent_link, unsent))

    # then the sent link redirects from the cache, and its click waits in the stream
    assert redirected.status == 302 and redirected.getheader("Location") == "https://acme.test/t"
    # and the other gets a page asking to try again in a minute, not a bare 500
    assert unavailable.status == 503 and unavailable.getheader("Retry-After") == "60"
    assert "Please try again in a minute" in unavailable.body
    # and once the database is back the flush stores the click
    click_flush.clicks_flush()
    assert Click.objects.filter(message=sent).count() == 1
    assert click_counts(campaign_id=campaign.pk).total == 1


def _warnings() -> list[checks.CheckMessage]:
    return [message for message in checks.run_checks() if message.id == "linktrack.W004"]


def test_a_stream_redis_that_would_lose_clicks_on_a_restart_is_warned_about(client, db, settings):
    with own_redis() as server:
        # given a click stream on a Redis without an append-only file or a replica
        settings.CLICK_STREAM_URL = server.url

        # then the system check and /healthz say that a restart loses the clicks waiting in it
        (warning,) = _warnings()
        assert "keeps clicks in memory only" in warning.msg and "appendonly" in warning.hint
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.content.decode().startswith("ok\nwarning: the click stream's Redis keeps clicks in memory")

        # when it writes an append-only file, neither says anything
        redis.Redis(port=server.port).config_set("appendonly", "yes")
        assert _warnings() == []
        assert client.get("/healthz").content == b"ok"


def test_a_stream_redis_with_a_replica_is_not_warned_about(settings):
    with own_redis() as primary, own_redis("--replicaof", "127.0.0.1", str(primary.port)):
        settings.CLICK_STREAM_URL = primary.url
        deadline = time.monotonic() + 10
        while redis.Redis(port=primary.port).info("replication")["connected_slaves"] < 1:
            assert time.monotonic() < deadline, "the replica never connected"
            time.sleep(0.05)

        assert _warnings() == []


def test_a_managed_redis_that_refuses_config_is_asked_through_info(settings):
    with (
        own_redis("--rename-command", "CONFIG", "") as without_aof,
        own_redis("--rename-command", "CONFIG", "", "--appendonly", "yes") as with_aof,
    ):
        settings.CLICK_STREAM_URL = without_aof.url
        (warning,) = _warnings()
        assert "keeps clicks in memory only" in warning.msg

        settings.CLICK_STREAM_URL = with_aof.url
        assert _warnings() == []


def test_a_redis_that_refuses_info_and_config_is_said_to_be_unknown(settings):
    with own_redis("--rename-command", "CONFIG", "", "--rename-command", "INFO", "") as server:
        settings.CLICK_STREAM_URL = server.url

        (warning,) = _warnings()
        assert "does not say whether it has an append-only file or a replica" in warning.msg


def test_an_unreachable_stream_redis_is_a_warning_not_a_failure(settings):
    settings.CLICK_STREAM_URL = f"redis://127.0.0.1:{free_port()}/0"

    (warning,) = _warnings()
    assert warning.level == checks.WARNING and "could not be asked" in warning.msg


def test_under_a_click_burst_a_seven_second_stall_and_an_outage_store_every_click_once_without_waiting(
    postgres, transactional_db, link, messages, settings
):
    """gunicorn (one process, 4 threads) on PostgreSQL (reading what this test committed) and a Redis of the test's
    own, 4 phones clicking all along: 2 s normal, Redis stalled 7 s, 3 s normal, Redis stopped 5 s, started again for
    3 s. The Redis writes an append-only file, so a restart keeps what waits in the stream (see the next tests)."""
    db = connection.settings_dict
    with own_redis("--appendonly", "yes", "--appendfsync", "always") as server:
        settings.CLICK_STREAM_URL = settings.SHORT_LINK_CACHE_URL = server.url
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        with running_web_server(DATABASE_URL=url, REDIS_URL=server.url) as base:
            phases = _burst(base, link, messages, server)
        click_flush.clicks_flush()
    sent = sum(len(times) for times in phases.values())
    stored = Click.objects.count()
    for phase, times in phases.items():
        slow = sum(1 for seconds in times if seconds > 0.4)
        print(f"{phase}: {len(times)} clicks, {len(times) / PHASES[phase]:.0f}/s, {slow} waited over 0.4 s")
    print(f"sent {sent}, stored {stored}, counted {click_counts(campaign_id=link.campaign_id).total}")

    assert stored == sent and click_counts(campaign_id=link.campaign_id).total == sent
    # only the clicks in flight when Redis failed, and those trying it again after each pause, wait for it (about 8
    # on a quiet machine): most clicks of the outage do not. Before, every click of the stall waited.
    for phase in ("stalled", "stopped"):
        waited = sum(1 for seconds in phases[phase] if seconds > 0.4)
        assert 2 * waited < len(phases[phase]), (phase, waited, len(phases[phase]))


PHASES = {"before": 2.0, "stalled": 7.0, "after the stall": 3.0, "stopped": 5.0, "started again": 3.0}


def _burst(base: str, link, messages, server) -> dict[str, list[float]]:
    """Click from 4 threads through the phases; the durations of each phase's clicks (all must be 302s)."""
    phases: dict[str, list[float]] = {phase: [] for phase in PHASES}
    not_redirected: list[int] = []
    current, stop = ["before"], threading.Event()
    paths = [path_for(link, message) for message in messages]

    def phone(number: int) -> None:
        web = http.client.HTTPConnection(base.removeprefix("http://"), timeout=30)
        n = number
        while not stop.is_set():
            phase, started = current[0], time.monotonic()
            web.request("GET", paths[n % len(paths)], headers={"User-Agent": PHONE_UA})
            response = web.getresponse()
            response.read()
            if response.status != 302:
                not_redirected.append(response.status)
                continue
            phases[phase].append(time.monotonic() - started)
            n += 4

    threads = [threading.Thread(target=phone, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(PHASES["before"])
        current[0] = "stalled"
        server.stall()
        time.sleep(PHASES["stalled"])
        server.resume()
        current[0] = "after the stall"
        time.sleep(PHASES["after the stall"])
        current[0] = "stopped"
        server.stop()
        time.sleep(PHASES["stopped"])
        server.start()
        current[0] = "started again"
        time.sleep(PHASES["started again"])
    finally:
        stop.set()
        server.resume()
        for thread in threads:
            thread.join(timeout=30)
    assert not_redirected == []
    return phases
