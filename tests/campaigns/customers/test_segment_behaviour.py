"""Segments on what customers did: clicked a link, were sent a message, or could not be reached in their last
messages, in the last days of the org's calendar; bots and tests never count."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.customers.segments import customers_matching, segment_save
from campaigns.models import Customer, Segment
from delivery.models import Message
from linktrack.services import click_counters_build
from tests.campaigns.customers.behaviour import IST, ND, NOW, OK, History, clicked, names, people, undelivered
from tests.factories import make_customers


def sent(days=30, channel="any", negate=False) -> dict:
    return {"behaviour": "sent", "days": days, "channel": channel, "negate": negate}


# --- Clicked -----------------------------------------------------------------------------------------------------


@pytest.fixture
def clickers(org, history):
    who = people(org, "sms_clicker", "email_clicker", "old_clicker", "bot_only", "proof_clicker", "no_click")
    history.click(history.message(who["sms_clicker"], at=NOW - timedelta(days=40)), at=NOW - timedelta(days=3))
    history.click(history.message(who["email_clicker"], channel="email"), at=NOW - timedelta(days=1))
    history.click(history.message(who["old_clicker"]), at=NOW - timedelta(days=31))
    history.click(history.message(who["bot_only"]), at=NOW - timedelta(days=1), bot=True)  # a link preview
    history.click(history.message(who["proof_clicker"], proof=True), at=NOW - timedelta(days=1))  # a test
    history.message(who["no_click"])
    return who


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # an old message clicked recently counts: it is the click that must be recent
        (clicked(30, "any"), {"sms_clicker", "email_clicker"}),
        (clicked(30, "sms"), {"sms_clicker"}),
        (clicked(30, "email"), {"email_clicker"}),
        # 31 days ago at 10:00 is in the 32nd calendar day counting today
        (clicked(31, "sms"), {"sms_clicker"}),
        (clicked(32, "sms"), {"sms_clicker", "old_clicker"}),
        (clicked(2, "any"), {"email_clicker"}),
        (clicked(30, "any", negate=True), {"old_clicker", "bot_only", "proof_clicker", "no_click"}),
        (clicked(30, "sms", negate=True), {"email_clicker", "old_clicker", "bot_only", "proof_clicker", "no_click"}),
    ],
)
def test_clicked_counts_people_on_the_channel_never_bots_or_tests(org, clickers, condition, expected):
    assert names(org, [condition]) == expected


def test_the_last_days_are_the_orgs_calendar_days_today_included(org, history):
    # "the last 7 days" on 15 March (India) start at midnight on 9 March, India time: 8 March 18:30 UTC
    who = people(org, "just_in", "just_out")
    history.click(history.message(who["just_in"]), at=datetime(2026, 3, 9, 0, 0, tzinfo=IST))
    history.click(history.message(who["just_out"]), at=datetime(2026, 3, 8, 23, 59, 59, tzinfo=IST))
    assert names(org, [clicked(7)]) == {"just_in"}
    # late in the evening of 15 March India time (already 16 March in Tokyo, still 15 March in UTC): same answer
    assert names(org, [clicked(7)], moment=datetime(2026, 3, 15, 23, 59, tzinfo=IST)) == {"just_in"}
    # just after midnight India time, when UTC is still on 15 March: the period moved on by a day
    assert names(org, [clicked(7)], moment=datetime(2026, 3, 16, 0, 1, tzinfo=IST)) == set()

    # an org on UTC counts UTC days: 9 March 00:00 India time is 8 March in UTC, outside the last 7 days there
    # (once its click counters are counted again on its new clock, as changing the time zone does)
    org.timezone = "UTC"
    org.save(update_fields=["timezone"])
    click_counters_build(org_id=org.pk, everything=True)
    assert names(org, [clicked(7)]) == set()
    assert names(org, [clicked(8)]) == {"just_in", "just_out"}


# --- Sent --------------------------------------------------------------------------------------------------------


def test_sent_counts_messages_handed_over_or_on_their_way_not_those_never_sent_nor_tests(org, history):
    who = people(org, "texted", "mailed", "queued", "never_sent", "tested", "long_ago")
    history.message(who["texted"], at=NOW - timedelta(days=6), status=ND)
    history.message(who["mailed"], at=NOW - timedelta(days=1), channel="email")
    history.message(who["queued"], status=Message.Status.QUEUED)
    history.message(who["never_sent"], status=Message.Status.NOT_SENT, reason="ndnc_precheck")
    history.message(who["tested"], proof=True)
    history.message(who["long_ago"], at=NOW - timedelta(days=7))

    assert names(org, [sent(7)]) == {"texted", "mailed", "queued"}
    assert names(org, [sent(7, "sms")]) == {"texted", "queued"}
    assert names(org, [sent(8, "sms")]) == {"texted", "queued", "long_ago"}
    assert names(org, [sent(7, "email", negate=True)]) == {"texted", "queued", "never_sent", "tested", "long_ago"}


# --- Undelivered -------------------------------------------------------------------------------------------------


@pytest.fixture
def reachability(org, history):
    """Each customer's SMS outcomes, oldest first."""
    who = people(
        org, "dead", "came_back", "two_only", "one_got_through", "unknown_skipped", "ndnc_skipped", "in_flight",
        "dead_by_email", "tested_dead", "dlt_error", "never_messaged",
    )  # fmt: skip
    history.outcomes(who["dead"], OK, ND, ND, ND)
    history.outcomes(who["came_back"], ND, ND, ND, OK)
    history.outcomes(who["two_only"], ND, ND)
    history.outcomes(who["one_got_through"], ND, OK, ND, ND)
    # "unknown": the operator reports nothing (promotional sender), which says nothing about the number
    history.outcomes(who["unknown_skipped"], ND, Message.Status.UNKNOWN, ND, Message.Status.UNKNOWN, ND)
    # a Do-Not-Disturb reject: the number works, it is on the register
    history.outcomes(who["ndnc_skipped"], ND, ND, (ND, "ndnc"), ND)
    history.outcomes(who["in_flight"], ND, ND, ND, Message.Status.SENT)
    history.outcomes(who["dead_by_email"], ND, ND, ND, channel="email")
    history.outcomes(who["tested_dead"], ND, ND)
    history.message(who["tested_dead"], status=ND, proof=True)
    # the sender's DLT template was refused for everyone: it is not this number's fault
    history.outcomes(who["dlt_error"], ND, (ND, "dlt_template"), (ND, "dlt_template"), ND)
    return who


def test_undelivered_is_the_last_messages_with_an_outcome_all_failing(org, reachability):
    assert names(org, [undelivered(3)]) == {"dead", "unknown_skipped", "ndnc_skipped", "in_flight"}
    assert names(org, [undelivered(2)]) == {
        "dead", "two_only", "one_got_through", "unknown_skipped", "ndnc_skipped", "in_flight", "dlt_error",
        "tested_dead",
    }  # fmt: skip
    assert names(org, [undelivered(3, "email")]) == {"dead_by_email"}
    assert names(org, [undelivered(3, "any")]) == {
        "dead",
        "unknown_skipped",
        "ndnc_skipped",
        "in_flight",
        "dead_by_email",
    }
    # the latest outcome alone: those two also end on a failure
    assert names(org, [undelivered(1)]) == names(org, [undelivered(2)])
    assert "came_back" not in names(org, [undelivered(1)])


def test_negated_undelivered_suppresses_numbers_that_no_longer_work(org, reachability):
    reachable = names(org, [undelivered(3, negate=True)])
    assert reachable == set(reachability) - {"dead", "unknown_skipped", "ndnc_skipped", "in_flight"}
    assert "never_messaged" in reachable and "two_only" in reachable  # too few outcomes to call them dead


# --- Combined, counted, checked ----------------------------------------------------------------------------------


def test_behaviour_and_attribute_conditions_all_hold(org, other_org, history):
    pune = people(org, "pune_clicker", "pune_dormant", city="Pune")
    goa = people(org, "goa_clicker", city="Goa")
    for customer in (pune["pune_clicker"], goa["goa_clicker"]):
        history.click(history.message(customer), at=NOW - timedelta(days=1))
    theirs = Customer.objects.create(org=other_org, name="their_clicker", mobile="+919111111111")
    History(other_org).click(History(other_org).message(theirs), at=NOW - timedelta(days=1))

    city = {"attribute": "city", "op": "eq", "value": "pune"}
    assert names(org, [city, clicked(7)]) == {"pune_clicker"}
    assert names(org, [city, clicked(7, negate=True)]) == {"pune_dormant"}
    assert names(org, [clicked(7), sent(7)]) == {"pune_clicker", "goa_clicker"}


@pytest.mark.parametrize("how_many", [3, 30])
def test_counting_a_segment_is_one_query_however_many_customers(org, history, how_many):
    for customer in make_customers(org, how_many):
        history.outcomes(customer, OK, ND)
        history.click(Message.objects.filter(customer=customer).first())
    conditions = [
        {"attribute": "tier", "op": "ne", "value": "gold"},
        clicked(30, "sms"),
        sent(7, negate=True),
        undelivered(1, "any", negate=True),
    ]
    with CaptureQueriesContext(connection) as queries:
        count = customers_matching(org=org, conditions=conditions, moment=NOW).count()
    assert count == 0 and len(queries) == 1
    assert customers_matching(org=org, conditions=conditions[:2], moment=NOW).count() == how_many


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"behaviour": "opened", "days": 3}, "“opened” is not a behaviour; use one of clicked"),
        (
            {"behaviour": "clicked"},
            r"Condition 1 \(clicked a link in the last N days\): give a number of days from 1 to 365",
        ),
        ({"behaviour": "clicked", "days": 0}, "give a number of days from 1 to 365"),
        ({"behaviour": "sent", "days": "a week"}, "give a number of days from 1 to 365"),
        ({"behaviour": "sent", "days": True}, "give a number of days"),
        ({"behaviour": "undelivered", "days": 3}, "give a number of messages from 1 to 20"),
        ({"behaviour": "undelivered", "messages": 21}, "give a number of messages from 1 to 20"),
        ({"behaviour": "clicked", "days": 3, "channel": "whatsapp"}, "“whatsapp” is not a channel; use one of any"),
        ({"behaviour": "clicked", "days": 3, "negate": "yes"}, "“negate” must be true"),
    ],
)
def test_bad_behaviour_conditions_are_refused_in_words(org, condition, message):
    with pytest.raises(ValidationError, match=message):
        segment_save(org=org, name="Bad", conditions=[condition])
    assert not Segment.objects.exists()


def test_a_behaviour_condition_is_stored_cleaned_beside_attribute_conditions(org):
    segment = segment_save(
        org=org,
        name="Engaged in Pune",
        conditions=[{"attribute": "city", "op": "eq", "value": "Pune"}, {"behaviour": "clicked", "days": "30"}],
    )
    segment.refresh_from_db()
    assert segment.conditions == [
        {"attribute": "city", "op": "eq", "value": "Pune"},
        {"behaviour": "clicked", "days": 30, "channel": "any", "negate": False},
    ]
