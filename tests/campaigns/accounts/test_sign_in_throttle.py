"""Sign-in throttling: failed sign-ins per address and per client address, in a window, refused in words."""

import logging
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import forms as auth_forms
from django.test import Client

from campaigns.accounts import sign_in
from tests.campaigns.accounts.helpers import NEW_PASSWORD, _mail_for, _reset_link, _sign_in, _signed_in
from tests.factories import PASSWORD

# --- Sign-in throttling --------------------------------------------------------------------------------------

WRONG = "not-the-password"
INVALID = "Please enter a correct email address and password"
T0 = 1_800_000_000 - 1_800_000_000 % 60  # the start of a minute


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """The addresses whose password the sign-in form checked."""
    checked = []
    authenticate = auth_forms.authenticate

    def spy(request=None, **credentials):
        checked.append(credentials["username"])
        return authenticate(request, **credentials)

    monkeypatch.setattr(auth_forms, "authenticate", spy)
    return checked


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, set by the test (Redis and local memory alike read counts by the minute it gives)."""

    class Clock:
        now = T0 + 5

    monkeypatch.setattr(sign_in, "_now", lambda: Clock.now)
    return Clock


def test_five_failed_sign_ins_for_an_address_refuse_the_sixth_even_with_the_right_password(
    client, manager, password_checks, clock
):
    # given five failed sign-ins for the address (the default limit), each answered as a wrong password
    for _ in range(5):
        response = _sign_in(client, "manager@acme.test", WRONG)
        assert response.status_code == 200 and INVALID in response.content.decode()

    # when the right password is tried
    password_checks.clear()
    response = _sign_in(client, "manager@acme.test", PASSWORD)

    # then it is refused with the wait in words, before the password is checked
    assert response.status_code == 429 and response["Retry-After"] == str(15 * 60 - 5)
    assert (
        "Too many failed sign-ins for this address; try again in 15 minutes or reset your password"
        in response.content.decode()
    )
    assert password_checks == [] and not _signed_in(client)


def test_the_address_limit_is_exact_and_counts_every_spelling_of_the_address(client, manager, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 3
    _sign_in(client, "manager@acme.test", WRONG)
    _sign_in(client, "Manager@Acme.test", WRONG)
    assert _sign_in(client, "MANAGER@ACME.TEST", WRONG).status_code == 200  # the third failure is still checked

    assert _sign_in(client, "manager@acme.test", PASSWORD).status_code == 429


def test_the_address_limit_leaves_other_addresses_from_the_same_client_alone(client, manager, outsider, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 2
    for _ in range(2):
        _sign_in(client, "manager@acme.test", WRONG)

    response = _sign_in(client, "manager@other.test", PASSWORD)

    assert response.status_code == 302 and _signed_in(client)


def test_an_unknown_address_is_throttled_exactly_like_a_known_one(client, manager, settings, clock):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 2
    for email in ("manager@acme.test", "nobody@acme.test"):
        for _ in range(2):
            assert INVALID in _sign_in(client, email, WRONG).content.decode()

    known = _sign_in(client, "manager@acme.test", WRONG)
    unknown = _sign_in(client, "nobody@acme.test", WRONG)

    assert known.status_code == unknown.status_code == 429
    assert known.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "Too many failed sign-ins for this address; try again in 15 minutes" in unknown.content.decode()


def test_failures_from_one_client_address_refuse_it_for_every_account(client, manager, settings, password_checks):
    # given a client address that failed to sign in as four different people (the limit, lowered)
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 4
    for n in range(4):
        response = _sign_in(client, f"guess{n}@acme.test", WRONG, REMOTE_ADDR="203.0.113.5")
        assert response.status_code == 200

    # when a fifth address, with its right password, is tried from there and from elsewhere
    password_checks.clear()
    from_there = _sign_in(client, "manager@acme.test", PASSWORD, REMOTE_ADDR="203.0.113.5")
    assert password_checks == []
    from_elsewhere = _sign_in(Client(), "manager@acme.test", PASSWORD, REMOTE_ADDR="198.51.100.1")

    # then only that client address is refused
    assert from_there.status_code == 429
    assert "Too many failed sign-ins from your network; try again in 15 minutes" in from_there.content.decode()
    assert from_elsewhere.status_code == 302


def test_the_client_address_comes_from_the_proxy_header_as_for_clicks(client, manager, settings):
    settings.CLICK_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 2
    for n in range(2):
        _sign_in(client, f"guess{n}@acme.test", WRONG, HTTP_X_REAL_IP="203.0.113.5", REMOTE_ADDR="10.0.0.1")

    refused = _sign_in(client, "manager@acme.test", PASSWORD, HTTP_X_REAL_IP="203.0.113.5", REMOTE_ADDR="10.0.0.1")
    other_client = _sign_in(
        Client(), "manager@acme.test", PASSWORD, HTTP_X_REAL_IP="203.0.113.6", REMOTE_ADDR="10.0.0.1"
    )

    assert refused.status_code == 429 and other_client.status_code == 302


def test_a_successful_sign_in_clears_the_addresss_failures(client, manager, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 3
    for _ in range(2):
        _sign_in(client, "manager@acme.test", WRONG)
    assert _sign_in(client, "manager@acme.test", PASSWORD).status_code == 302

    for _ in range(2):
        _sign_in(Client(), "manager@acme.test", WRONG)

    # four failures in the window, but only two since the success
    assert _sign_in(Client(), "manager@acme.test", PASSWORD).status_code == 302


def test_setting_a_new_password_through_the_reset_link_lifts_the_refusal(client, manager, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 2
    for _ in range(2):
        _sign_in(client, "manager@acme.test", WRONG)
    assert _sign_in(client, "manager@acme.test", PASSWORD).status_code == 429

    form_url = client.get(urlsplit(_reset_link(_mail_for(client, "manager@acme.test"))).path)["Location"]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert _sign_in(client, "manager@acme.test", NEW_PASSWORD).status_code == 302


def test_a_refusal_says_how_long_until_the_oldest_failures_leave_the_window(client, manager, settings, clock):
    # given two failures (the limit, lowered) ten minutes apart
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 2
    _sign_in(client, "manager@acme.test", WRONG)
    clock.now = T0 + 10 * 60
    _sign_in(client, "manager@acme.test", WRONG)

    # when three minutes later the right password is tried, then the wait ends when the first failure leaves
    clock.now = T0 + 13 * 60
    refused = _sign_in(client, "manager@acme.test", PASSWORD)
    assert refused.status_code == 429 and refused["Retry-After"] == "120"
    assert "try again in 2 minutes or reset your password" in refused.content.decode()

    # when the first failure is fifteen minutes old, then one failure is left in the window and sign-in works
    clock.now = T0 + 15 * 60
    assert _sign_in(client, "manager@acme.test", PASSWORD).status_code == 302


def test_failures_older_than_the_window_no_longer_count(client, manager, settings, clock):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 2
    for _ in range(2):
        _sign_in(client, "manager@acme.test", WRONG)

    clock.now = T0 + 3 * 60 + 5
    assert "try again in 12 minutes" in _sign_in(client, "manager@acme.test", PASSWORD).content.decode()
    clock.now = T0 + 14 * 60 + 59
    assert "try again in 1 minute or" in _sign_in(client, "manager@acme.test", PASSWORD).content.decode()
    clock.now = T0 + 15 * 60
    assert _sign_in(client, "manager@acme.test", PASSWORD).status_code == 302


def test_the_window_is_a_setting(client, manager, settings, clock):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 1
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 2
    _sign_in(client, "manager@acme.test", WRONG)

    clock.now = T0 + 60
    assert _sign_in(client, "manager@acme.test", PASSWORD).status_code == 429
    clock.now = T0 + 120
    assert _sign_in(client, "manager@acme.test", PASSWORD).status_code == 302


def test_each_refusal_is_logged_as_a_warning_without_the_password(client, manager, settings, caplog):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 1
    _sign_in(client, "manager@acme.test", WRONG)

    with caplog.at_level(logging.WARNING, logger="campaigns.accounts.sign_in"):
        _sign_in(client, "manager@acme.test", PASSWORD, REMOTE_ADDR="203.0.113.5")

    [record] = [r for r in caplog.records if r.name == "campaigns.accounts.sign_in"]
    assert record.levelno == logging.WARNING
    assert "manager@acme.test" in record.getMessage() and "203.0.113.5" in record.getMessage()
    assert PASSWORD not in caplog.text
