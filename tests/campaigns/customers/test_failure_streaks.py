"""The segment "whose last K messages all failed to deliver" reads failure streaks the database keeps with every
outcome; whatever outcomes come, in whatever order, it selects exactly whom the rule selects read from the messages."""

import importlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.customers.segments import NOT_THE_RECIPIENTS_FAULT, customers_matching
from campaigns.models import Template
from delivery.models import Message
from tests.factories import CampaignFactory, make_customers

START = datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
STATUSES = ["delivered", "not_delivered", "unknown", "sent", "not_sent"]
message = st.fixed_dictionaries(
    {
        "customer": st.integers(0, 2),
        "channel": st.sampled_from(["sms", "email"]),
        "status": st.sampled_from(STATUSES),
        "reason": st.sampled_from(["", "expired", "ndnc"]),
        "minute": st.integers(0, 5),  # equal times happen: a failure and a delivery at once count as delivered
    }
)
change = st.tuples(st.integers(0, 11), st.sampled_from(STATUSES), st.sampled_from(["", "expired", "dlt_template"]))


class Rollback(Exception):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(message, max_size=12), changes=st.lists(change, max_size=6), bulk=st.booleans())
def test_the_segment_selects_whom_the_messages_say(org, messages, changes, bulk):
    try:
        with transaction.atomic():
            _play(org, messages, changes, bulk)
            raise Rollback
    except Rollback:
        pass


def _play(org, messages, changes, bulk):
    customers = make_customers(org, 3)
    templates = {c: Template.objects.create(org=org, name=c, channel=c, body="Hi {#var#}") for c in ("sms", "email")}
    rows = []
    for number, m in enumerate(messages):
        campaign = CampaignFactory(org=org, name=f"C{number}", template=templates[m["channel"]], status="dispatched")
        row = Message(
            campaign=campaign,
            customer=customers[m["customer"]],
            channel=m["channel"],
            recipient="x",
            status=m["status"],
            reason_code=m["reason"],
        )
        rows.append(row)
    if bulk:  # one statement for all, as a dispatch writes them
        Message.objects.bulk_create(rows)
    else:  # one at a time
        for row in rows:
            row.save()
    stored = rows
    for row, m in zip(stored, messages, strict=True):
        Message.objects.filter(pk=row.pk).update(created_at=START + timedelta(minutes=m["minute"]))
    for index, status, reason in changes:  # outcomes arriving later, in any order
        if index < len(stored):
            Message.objects.filter(pk=stored[index].pk).update(status=status, reason_code=reason)

    for channel in ("any", "sms", "email"):
        for last in (1, 2, 3):
            condition = {"behaviour": "undelivered", "messages": last, "channel": channel, "negate": False}
            chosen = set(customers_matching(org=org, conditions=[condition]).values_list("pk", flat=True))
            assert chosen == {c.pk for c in customers if _failed_last(c, channel, last)}, (channel, last)


def _failed_last(customer, channel: str, last: int) -> bool:
    mine = Message.objects.filter(customer=customer)
    if channel != "any":
        mine = mine.filter(channel=channel)
    deliveries = [m.created_at for m in mine if m.status == "delivered"]
    latest = max(deliveries) if deliveries else None
    failures = [
        m
        for m in mine
        if m.status == "not_delivered"
        and m.reason_code not in NOT_THE_RECIPIENTS_FAULT
        and (latest is None or m.created_at > latest)
    ]
    return len(failures) >= last


def test_the_triggers_skip_the_reasons_the_segments_skip():
    migration = importlib.import_module("delivery.migrations.0008_failure_streaks")
    assert migration.NOT_THE_RECIPIENTS_FAULT == NOT_THE_RECIPIENTS_FAULT
