"""Password-reset requests are throttled per email address and per client address: nobody can make linktrack flood
an inbox, and the page never tells whether a request was throttled."""

import logging

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.accounts import sign_in

T0 = 1_800_000_000 - 1_800_000_000 % 60  # the start of a minute


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = T0 + 5

    monkeypatch.setattr(sign_in, "_now", lambda: Clock.now)
    return Clock


@pytest.fixture
def limits(settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    settings.PASSWORD_RESET_LIMIT_PER_IP = 5
    settings.PASSWORD_RESET_WINDOW_MINUTES = 60
    return settings


def _ask(email: str, ip: str = "203.0.113.5", client: Client | None = None):
    return (client or Client()).post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip, follow=True)


def test_the_request_past_the_address_limit_sends_no_email_and_answers_the_same(manager, limits, clock, caplog):
    # given three requests for the manager's address, each emailed
    answers = [_ask("manager@acme.test", ip=f"198.51.100.{n}") for n in range(3)]
    assert len(mail.outbox) == 3

    # when a fourth comes, from yet another client address and spelt differently
    with caplog.at_level(logging.WARNING, logger="campaigns.accounts.sign_in"):
        fourth = _ask("Manager@Acme.test", ip="198.51.100.9")

    # then nothing more is sent, the page is the very same, and the refusal is logged
    assert len(mail.outbox) == 3
    assert fourth.redirect_chain == answers[0].redirect_chain
    assert fourth.status_code == 200 and fourth.content == answers[0].content
    [record] = [r for r in caplog.records if "Password reset email not sent" in r.getMessage()]
    assert record.levelno == logging.WARNING and "for the address" in record.getMessage()
    assert "manager@acme.test" in record.getMessage().lower()


def test_an_unknown_address_is_throttled_and_answered_exactly_like_a_known_one(manager, limits, clock):
    for email in ("manager@acme.test", "nobody@acme.test"):
        for n in range(3):
            _ask(email, ip=f"198.51.100.{n}")
    mail.outbox.clear()

    known = _ask("manager@acme.test", ip="198.51.100.7")
    unknown = _ask("nobody@acme.test", ip="198.51.100.7")

    assert mail.outbox == []
    assert known.content == unknown.content and known.redirect_chain == unknown.redirect_chain


def test_one_client_address_asking_for_many_addresses_is_stopped_past_its_limit(manager, outsider, limits, clock):
    # given five requests from one client address for five other addresses (none of them emailed: no account)
    for n in range(5):
        _ask(f"guess{n}@acme.test", ip="203.0.113.5")

    # when it asks for a real account, then another client address does
    from_there = _ask("manager@acme.test", ip="203.0.113.5")
    assert mail.outbox == []
    from_elsewhere = _ask("manager@acme.test", ip="198.51.100.1")

    # then only the other client address gets an email; both read the same page
    assert [m.to for m in mail.outbox] == [["manager@acme.test"]]
    assert from_there.content == from_elsewhere.content


def test_requests_older_than_the_window_no_longer_count(manager, limits, clock):
    for _ in range(3):
        _ask("manager@acme.test")
    _ask("manager@acme.test")
    assert len(mail.outbox) == 3

    clock.now += 60 * 60  # the first requests leave the 60-minute window

    _ask("manager@acme.test")
    assert len(mail.outbox) == 4


def test_the_throttle_does_not_count_sign_in_failures_nor_touch_them(manager, limits, clock, settings):
    # given the sign-in limit for the address reached
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 2
    for _ in range(2):
        Client().post("/accounts/login/", {"username": "manager@acme.test", "password": "wrong"})

    # when a reset is asked for, then the link is emailed: the two counts are separate
    _ask("manager@acme.test")
    assert len(mail.outbox) == 1
