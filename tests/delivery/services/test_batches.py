"""Sending and receipts work per batch: a send batch's outcomes are written together, receipts with a few
queries per batch, and every guarantee of the one-at-a-time path still holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.lifecycle import services as campaign_services
from campaigns.models import Customer
from delivery import services
from delivery.bulk import among
from delivery.gateways.base import Exchange, Receipt
from delivery.models import GatewayExchange, Message, PendingReceipt
from tests.factories import LINK_SLOTS, http_config


def queued_messages(org, template, manager, count: int) -> list[Message]:
    """`count` queued messages of a campaign that was created but never dispatched."""
    campaign = campaign_services.campaign_create(
        org=org, user=manager, name=f"Batch of {count}", template=template, slot_values=LINK_SLOTS
    )
    first = Customer.objects.filter(org=org).count()
    customers = Customer.objects.bulk_create(
        Customer(org=org, name=f"Customer {n}", mobile=f"+91981{n:07d}", external_id=f"C{n}")
        for n in range(first + 1, first + count + 1)
    )
    return Message.objects.bulk_create(
        Message(campaign=campaign, customer=c, channel="sms", recipient=c.mobile, body=f"Hi {c.name}", segments=1)
        for c in customers
    )


def statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements run, without the savepoints of the test's transaction."""
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def send_counting_queries(messages: list[Message]) -> tuple[list[int], int]:
    with CaptureQueriesContext(connection) as queries:
        accepted = services.messages_send(message_ids=[m.pk for m in messages])
    return accepted, len(queries)


def test_a_send_batch_writes_each_messages_outcome_and_when_it_changed(http_gateway, org, template, manager):
    # given 10 queued messages, and a gateway that takes the first, refuses the second and takes the rest
    config = http_config(org, http_gateway.url)
    messages = queued_messages(org, template, manager, 10)
    http_gateway.script = [("ok",), ("refuse", 401, "unauthorised"), ("ok",)]
    before = timezone.now()

    # when the batch is sent
    accepted, _ = send_counting_queries(messages)

    # then each accepted message is sent with the gateway's id and time, the refused one is not sent and says why
    rows = {m.pk: m for m in Message.objects.filter(pk__in=[m.pk for m in messages])}
    first, refused = rows[messages[0].pk], rows[messages[1].pk]
    assert sorted(accepted) == sorted(pk for pk in rows if pk != refused.pk)
    assert (first.status, first.gateway_message_id, first.reason_code) == ("sent", f"gw-{first.pk}", "")
    assert first.sent_at >= before and first.finished_at is None
    assert (refused.status, refused.reason_code, refused.gateway_error) == (
        "not_sent",
        "gateway_other",
        "HTTP:401:unauthorised",
    )
    assert refused.gateway_message_id == "" and refused.sent_at is None and refused.finished_at >= before
    assert all(m.updated_at >= before for m in rows.values())
    # and the gateway log keeps each submit, with the gateway, its kind and when, the API key redacted
    log = GatewayExchange.objects.filter(message_id__in=rows, operation="submit")
    assert log.count() == 10
    entry = log.get(message_id=first.pk)
    assert (entry.gateway_id, entry.gateway_kind, entry.created_at >= before) == (config.pk, "http", True)
    assert f"gw-{first.pk}" in entry.response and "sk-live-SECRET-123" not in entry.request + entry.response


def test_the_queries_of_a_send_batch_do_not_grow_with_its_size(org, template, manager, settings):
    # given the simulated gateway, with its receipts scheduled for later
    small = queued_messages(org, template, manager, 5)
    large = queued_messages(org, template, manager, 60)

    # when a batch of 5 and a batch of 60 are sent
    accepted_small, small_queries = send_counting_queries(small)
    accepted_large, large_queries = send_counting_queries(large)

    # then both take the same number of queries, and a task that runs again sends nothing twice
    assert (len(accepted_small), len(accepted_large)) == (5, 60)
    assert large_queries == small_queries
    assert services.messages_send(message_ids=[m.pk for m in large]) == []


@pytest.fixture
def waiting(http_gateway, org, customers, send_campaign) -> list[Message]:
    """10 messages sent through the HTTP gateway, waiting for receipts (ids gw-<pk>)."""
    http_config(org, http_gateway.url)
    campaign = send_campaign()
    messages = list(Message.objects.filter(campaign=campaign).order_by("pk"))
    assert {m.status for m in messages} == {Message.Status.SENT}
    return messages


def state(message: Message) -> tuple[str, str, str]:
    message.refresh_from_db()
    return message.status, message.reason_code, message.gateway_error


def test_a_batch_of_receipts_applies_each_outcome_once_with_a_few_queries(waiting, org):
    # given receipts for 7 messages in one batch: outcomes shared by several messages, an intermediate one, a late
    # contradicting one and a repeated one for the same message, and one for an id no message carries yet
    m = waiting
    receipts = [
        Receipt(f"gw-{m[0].pk}", "delivered", raw="r0"),
        Receipt(f"gw-{m[1].pk}", "not_delivered", "expired", "EXPIRED", raw="r1"),
        Receipt(f"gw-{m[2].pk}", "not_delivered", "expired", "EXPIRED", raw="r2"),
        Receipt(f"gw-{m[3].pk}", "unknown", "operator_no_report", raw="r3"),
        Receipt(f"gw-{m[4].pk}", "pending", raw="r4"),
        Receipt(f"gw-{m[5].pk}", "delivered", raw="r5"),
        Receipt(f"gw-{m[5].pk}", "not_delivered", "undeliverable", "UNDELIV", raw="r6"),
        Receipt(f"gw-{m[6].pk}", "not_delivered", "ndnc", "DLT:NDNC", raw="r7"),
        Receipt(f"gw-{m[6].pk}", "not_delivered", "ndnc", "DLT:NDNC", raw="r8"),
        Receipt("gw-not-yet", "delivered", alternative_ids=("4242",), raw="r9"),
    ]

    # when the batch is applied
    with CaptureQueriesContext(connection) as queries:
        changed = services.receipts_apply(receipts=receipts, org_id=org.pk)

    # then each message moved once, to the first final receipt the batch has for it
    assert changed == 6
    assert state(m[0]) == ("delivered", "", "")
    assert state(m[1]) == state(m[2]) == ("not_delivered", "expired", "EXPIRED")
    assert state(m[3]) == ("unknown", "operator_no_report", "")
    assert state(m[4]) == ("sent", "", "")
    assert state(m[5]) == ("delivered", "", "")
    assert state(m[6]) == ("not_delivered", "ndnc", "DLT:NDNC")
    assert all(state(message)[0] == "sent" for message in m[7:])
    # and the receipt for an unknown id is kept under both its spellings, every receipt is in the gateway log
    kept = PendingReceipt.objects.values_list("gateway_message_id", "state", "org_id")
    assert sorted(kept) == [("4242", "delivered", org.pk), ("gw-not-yet", "delivered", org.pk)]
    assert GatewayExchange.objects.filter(operation="receipt").count() == 10
    assert GatewayExchange.objects.get(operation="receipt", request="r6").message_id == m[5].pk
    # with one query to find the messages, one to lock those still waiting, one per outcome (4), one to keep the
    # unknown and one for the log
    assert len(statements(queries)) == 8

    # when the same batch arrives again, nothing changes
    finished = {message.pk: message.finished_at for message in Message.objects.filter(pk__in=[x.pk for x in m])}
    assert services.receipts_apply(receipts=receipts[:9], org_id=org.pk) == 0
    assert finished == {message.pk: message.finished_at for message in Message.objects.filter(pk__in=finished)}


def test_a_batch_of_receipts_takes_the_same_queries_for_10_messages_as_for_1(waiting, org):
    one = [Receipt(f"gw-{waiting[0].pk}", "delivered")]
    ten = [Receipt(f"gw-{message.pk}", "delivered") for message in waiting]
    with CaptureQueriesContext(connection) as for_one:
        assert services.receipts_apply(receipts=one, org_id=org.pk) == 1
    with CaptureQueriesContext(connection) as for_ten:
        assert services.receipts_apply(receipts=ten, org_id=org.pk) == 9
    assert len(statements(for_one)) == len(statements(for_ten)) == 3
    assert set(Message.objects.filter(pk__in=[m.pk for m in waiting]).values_list("status", flat=True)) == {"delivered"}


def test_kept_receipts_apply_the_earliest_one_per_message_and_only_within_their_org(waiting, org, other_org):
    # given receipts kept before their ids were known: two for the first message (a failure, then a delivery),
    # one for the second, and one from another org's gateway for the third
    m = waiting
    PendingReceipt.objects.create(
        org=org, gateway_message_id=f"gw-{m[0].pk}", state="not_delivered", reason_code="dlt_template"
    )
    PendingReceipt.objects.create(org=org, gateway_message_id=f"gw-{m[0].pk}", state="delivered")
    PendingReceipt.objects.create(org=org, gateway_message_id=f"gw-{m[1].pk}", state="delivered")
    PendingReceipt.objects.create(org=other_org, gateway_message_id=f"gw-{m[2].pk}", state="delivered")

    # when those ids are saved on their messages
    changed = services.pending_receipts_apply(gateway_message_ids=[f"gw-{x.pk}" for x in m[:3]])

    # then the earliest kept receipt counts, another org's receipt moves nothing, and none is kept any longer
    assert changed == 2
    assert state(m[0]) == ("not_delivered", "dlt_template", "")
    assert state(m[1]) == ("delivered", "", "")
    assert state(m[2]) == ("sent", "", "")
    assert not PendingReceipt.objects.exists()


def test_the_gateway_log_keeps_each_exchange_character_for_character(org, template, manager):
    # given exchanges whose texts hold line breaks, tabs, backslashes and non-Latin text, and one with no message
    message = queued_messages(org, template, manager, 1)[0]
    texts = ('{"to": "+919810000001",\n\t"text": "a\\\\b"}', "नमस्ते\r\nOK", "")
    exchanges = [(message.pk, Exchange("submit", *texts, duration_ms=12)), (None, Exchange("inbound", "STOP"))]

    # when they are logged
    services.exchanges_log(config=None, gateway_kind="http", exchanges=exchanges)

    # then each is stored as it was given
    logged = GatewayExchange.objects.get(message=message)
    assert (logged.request, logged.response, logged.error, logged.duration_ms) == (*texts, 12)
    assert GatewayExchange.objects.get(message=None).request == "STOP"


def test_among_sends_a_batch_of_ids_as_one_array_parameter_on_postgresql(postgres, org, template, manager):
    messages = queued_messages(org, template, manager, 3)
    wanted = [messages[2].pk, messages[0].pk]

    with CaptureQueriesContext(connection) as queries:
        found = sorted(among(Message.objects.filter(status="queued"), "id", wanted).values_list("pk", flat=True))

    assert found == sorted(wanted)
    assert "= ANY(" in queries[0]["sql"] and " IN (" not in queries[0]["sql"]
    assert list(among(Message.objects, "id", [])) == []
    assert among(PendingReceipt.objects, "gateway_message_id", ["none-such"]).count() == 0
