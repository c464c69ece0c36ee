"""The HTTP adapter against a real local HTTP server: payload, retries, refusals, garbage, send rate."""

import threading
import time

import pytest

from delivery.gateways.base import OutgoingMessage
from delivery.gateways.http import HttpGateway
from delivery.gateways.ratelimit import RateLimiter
from delivery.models import GatewayExchange, Message
from tests.delivery.helpers import statuses
from tests.factories import http_config


def test_messages_are_posted_with_dlt_ids_and_sender_and_get_the_gateways_ids(
    http_gateway, org, customers, send_campaign
):
    # given an org whose SMS go through an HTTP gateway
    http_config(org, http_gateway.url, callback_url="https://app.example/delivery/webhooks/1/receipts/")

    # when a campaign is sent
    campaign = send_campaign()

    # then each message was posted once with the DLT entity id, template id and sender, and is sent with its id
    assert len(http_gateway.requests) == 10
    first = http_gateway.requests[0]
    assert first.headers["Authorization"] == "Bearer sk-live-SECRET-123"
    payload = first.json
    assert payload["from"] == "ACMERT"
    assert payload["dlt_entity_id"] == "1701160000000000001"
    assert payload["dlt_template_id"] == "1707160000000000001"
    assert payload["to"] == "+9198100000001" or payload["to"].startswith("+91981")
    assert payload["text"].startswith("Hi Customer")
    assert payload["callback_url"] == "https://app.example/delivery/webhooks/1/receipts/"
    assert statuses(campaign) == {"sent": 10}
    message = Message.objects.filter(campaign=campaign).order_by("pk").first()
    assert message.gateway_message_id == f"gw-{message.pk}"


def test_gateway_log_keeps_request_and_response_with_the_api_key_redacted(http_gateway, org, customers, send_campaign):
    http_config(org, http_gateway.url)
    campaign = send_campaign()
    message = Message.objects.filter(campaign=campaign).first()
    exchange = GatewayExchange.objects.get(message=message)
    assert exchange.operation == "submit" and exchange.gateway_kind == "http"
    assert '"dlt_template_id": "1707160000000000001"' in exchange.request
    assert "HTTP 200" in exchange.response and f"gw-{message.pk}" in exchange.response
    assert "sk-live-SECRET-123" not in exchange.request
    assert "Authorization: Bearer ***" in exchange.request


def test_a_server_error_is_retried_and_the_message_is_accepted_on_the_next_try(
    http_gateway, org, customers, send_campaign
):
    http_gateway.script = [("status", 500), ("ok",)]
    http_config(org, http_gateway.url)
    campaign = send_campaign()
    assert statuses(campaign) == {"sent": 10}
    assert len(http_gateway.requests) == 11  # one 500, then every message once
    first = Message.objects.filter(campaign=campaign).order_by("pk").first()
    assert GatewayExchange.objects.filter(message=first).count() == 2


@pytest.mark.parametrize("status", [500, 503, 429])
def test_when_retries_run_out_on_5xx_or_429_the_message_is_not_sent_retries_exhausted(
    http_gateway, org, customers, send_campaign, status
):
    http_gateway.script = [("status", status)]
    http_config(org, http_gateway.url, max_retries=2)
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_retries_exhausted": 10}
    assert len(http_gateway.requests) == 30  # 1 try + 2 retries each
    assert set(Message.objects.filter(campaign=campaign).values_list("gateway_error", flat=True)) == {f"HTTP:{status}"}


def test_retries_back_off_exponentially():
    gateway = HttpGateway(url="http://127.0.0.1:9/none", max_retries=3, backoff=0.05, timeout=0.5)
    # connection refused is not retried: it must not wait at all
    started = time.monotonic()
    result = gateway.send_one(OutgoingMessage(1, "sms", "+919810000001", "hi"))
    assert result.reason_code == "gateway_submit_failed" and time.monotonic() - started < 0.5


def test_backoff_doubles_between_tries(http_gateway):
    http_gateway.script = [("status", 502)]
    gateway = HttpGateway(url=http_gateway.url, max_retries=3, backoff=0.1, timeout=2)
    result = gateway.send_one(OutgoingMessage(1, "sms", "+919810000001", "hi"))
    gaps = [b.at - a.at for a, b in zip(http_gateway.requests, http_gateway.requests[1:], strict=False)]
    assert result.reason_code == "gateway_retries_exhausted"
    # waits of 0.1, 0.2 and 0.4 s (plus the request's own time, which a busy machine stretches)
    for gap, wait in zip(gaps, [0.1, 0.2, 0.4], strict=True):
        assert wait <= gap < wait + 0.15


def test_a_gateway_that_answers_too_slowly_leaves_the_message_not_sent_gateway_timeout(
    http_gateway, org, template, customers, send_campaign
):
    for customer in customers[1:]:
        customer.delete()
    http_gateway.script = [("slow", 1.0)]
    http_config(org, http_gateway.url, timeout=0.2, max_retries=1)
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_timeout": 1}
    assert len(http_gateway.requests) == 2  # a timeout is retried
    message = Message.objects.get(campaign=campaign)
    assert message.gateway_error == "HTTP:timeout"
    assert "timed out" in GatewayExchange.objects.filter(message=message).first().error


def test_an_answer_that_is_not_json_is_not_retried_and_is_a_bad_response(http_gateway, org, customers, send_campaign):
    http_gateway.script = [("garbage",)]
    http_config(org, http_gateway.url)
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_bad_response": 10}
    assert len(http_gateway.requests) == 10  # it may have taken the message: never sent twice


def test_a_refusal_is_final_and_says_why(http_gateway, org, customers, send_campaign):
    http_gateway.script = [("refuse", 401, "unauthorised")]
    http_config(org, http_gateway.url)
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_other": 10}
    assert len(http_gateway.requests) == 10
    assert Message.objects.filter(campaign=campaign).first().gateway_error == "HTTP:401:unauthorised"


def test_a_refusal_for_the_callback_address_is_a_callback_configuration_problem(
    http_gateway, org, customers, send_campaign
):
    http_gateway.script = [("refuse", 400, "invalid_callback")]
    http_config(org, http_gateway.url)
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_callback_misconfigured": 10}


def test_an_unreachable_gateway_is_could_not_submit(org, customers, send_campaign):
    http_config(org, "http://127.0.0.1:9/sms")
    campaign = send_campaign()
    assert statuses(campaign) == {"not_sent:gateway_submit_failed": 10}


def _send_in_threads(url: str, limiter_factory, threads: int, per_thread: int) -> None:
    def work(offset: int):
        gateway = HttpGateway(url=url, limiter=limiter_factory())
        gateway.send_batch([OutgoingMessage(offset + n, "sms", "+919810000001", "hi") for n in range(per_thread)])

    workers = [threading.Thread(target=work, args=(n * 100,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_send_rate_is_shared_by_every_worker_through_redis(http_gateway, redis_url):
    # given three workers (each with its own Redis connection) sending through one gateway limited to 20/s
    import redis

    redis.Redis.from_url(redis_url).delete("delivery:rate:rate-test")
    _send_in_threads(
        http_gateway.url,
        lambda: RateLimiter(key="rate-test", per_second=20, redis_url=redis_url),
        threads=3,
        per_thread=10,
    )
    # then the gateway saw 30 requests spread over at least 29 intervals of 1/20 s
    times = sorted(r.at for r in http_gateway.requests)
    assert len(times) == 30
    assert times[-1] - times[0] >= 29 / 20 * 0.95
    # and never more than 20 within any one second (21 sends always span a second, give or take scheduling jitter)
    assert min(times[n + 20] - times[n] for n in range(len(times) - 20)) >= 0.95


def test_without_redis_the_rate_holds_per_process(http_gateway):
    _send_in_threads(http_gateway.url, lambda: RateLimiter(key="local-test", per_second=50), threads=2, per_thread=10)
    times = sorted(r.at for r in http_gateway.requests)
    assert times[-1] - times[0] >= 19 / 50 * 0.95
