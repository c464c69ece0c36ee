"""Signing in with two-step on: the password, then a code (or a recovery code), throttled like the password."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.campaigns.accounts.two_step.helpers import (
    CODE_PAGE,
    LOGIN,
    NEW_PASSWORD,
    SETUP,
    _code,
    _password,
    _signed_in,
    _totp,
)

# --- Signing in --------------------------------------------------------------------------------------------------


def test_the_password_alone_signs_in_a_user_without_two_step(client, manager):
    response = _password(client)

    assert response.status_code == 302 and response["Location"] == reverse("campaigns:list") and _signed_in(client)


def test_after_the_password_the_code_is_asked_before_signing_in(client, manager, with_two_step, clock):
    secret, _codes = with_two_step

    # when the password is right, then the code page comes next and nobody is signed in yet
    response = _password(client)
    assert response.status_code == 302 and response["Location"] == CODE_PAGE
    assert not _signed_in(client)
    assert client.get(reverse("campaigns:list"))["Location"].startswith(LOGIN)
    assert "enter the code it shows for linktrack" in client.get(CODE_PAGE).content.decode()

    # when the code the app shows now is entered, then they are signed in on the campaigns
    done = _code(client, _totp(secret, clock.now))
    assert done.status_code == 302 and done["Location"] == reverse("campaigns:list") and _signed_in(client)
    assert client.get(reverse("campaigns:list")).status_code == 200


def test_the_code_page_without_a_checked_password_sends_to_sign_in(client, manager, with_two_step, clock):
    response = _code(client, _totp(with_two_step[0], clock.now))

    assert response.status_code == 302 and response["Location"] == LOGIN and not _signed_in(client)


def test_a_wrong_code_is_refused_and_counts_against_the_sign_in_throttle(
    client, manager, with_two_step, clock, settings
):
    # given a limit of 3 failures and a password just checked
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 3
    _password(client)

    # when three wrong codes are entered, each is refused in words
    for wrong in ("000000", "123456", "999999"):
        response = _code(client, wrong)
        assert response.status_code == 200 and "That code is not right" in response.content.decode()
    assert not _signed_in(client)

    # then the right code is refused too (without being checked), and so is the password
    refused = _code(client, _totp(with_two_step[0], clock.now))
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many failed sign-ins for this address" in refused.content.decode() and not _signed_in(client)
    assert _password(Client()).status_code == 429


def test_the_right_password_again_does_not_clear_the_wrong_codes(client, manager, with_two_step, clock, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 3
    _password(client)
    _code(client, "000000")
    _code(client, "111111")

    assert _password(client)["Location"] == CODE_PAGE  # the password is right, but the count stays
    _code(client, "222222")

    assert _code(client, _totp(with_two_step[0], clock.now)).status_code == 429


def test_a_code_once_used_is_refused(client, manager, with_two_step, clock):
    # given a code that signed in
    code = _totp(with_two_step[0], clock.now)
    _password(client)
    assert _code(client, code).status_code == 302

    # when someone who saw it uses it again in the same 30 seconds, with the password
    elsewhere = Client()
    _password(elsewhere)
    replayed = _code(elsewhere, code)

    # then it is refused
    assert replayed.status_code == 200 and "That code is not right" in replayed.content.decode()
    assert not _signed_in(elsewhere)


@pytest.mark.parametrize("steps, accepted", [(-2, False), (-1, True), (1, True), (2, False)])
def test_a_code_one_step_off_is_accepted_and_two_steps_off_refused(
    client, manager, with_two_step, clock, steps, accepted
):
    _password(client)

    response = _code(client, _totp(with_two_step[0], clock.now + steps * 30))

    assert (response.status_code == 302) is accepted and _signed_in(client) is accepted


def test_a_recovery_code_signs_in_once(client, manager, with_two_step):
    _secret, codes = with_two_step
    _password(client)

    # typed as people copy it: capitals and spaces
    assert _code(client, f" {codes[3].upper().replace('-', ' ')} ").status_code == 302 and _signed_in(client)

    again = Client()
    _password(again)
    refused = _code(again, codes[3])
    assert refused.status_code == 200 and "That code is not right" in refused.content.decode()
    assert _code(again, codes[4]).status_code == 302
    client.force_login(manager)
    assert "<strong data-recovery-codes-left>8</strong>" in client.get(SETUP).content.decode()


def test_the_checked_password_is_forgotten_after_five_minutes(client, manager, with_two_step, clock):
    _password(client)
    clock.now += 299
    assert client.get(CODE_PAGE).status_code == 200

    clock.now += 1
    response = _code(client, _totp(with_two_step[0], clock.now))

    assert response.status_code == 302 and response["Location"] == LOGIN and not _signed_in(client)
    assert "within 5 minutes" in client.get(LOGIN).content.decode()


def test_a_password_changed_meanwhile_ends_the_pending_sign_in(client, manager, with_two_step, clock):
    _password(client)
    manager.set_password(NEW_PASSWORD)
    manager.save()

    response = _code(client, _totp(with_two_step[0], clock.now))

    assert response["Location"] == LOGIN and not _signed_in(client)


def test_next_is_kept_through_the_code_page(client, manager, with_two_step, clock):
    response = _password(client, next="/insights/")
    assert response["Location"] == f"{CODE_PAGE}?next=%2Finsights%2F"
    assert 'name="next" value="/insights/"' in client.get(response["Location"]).content.decode()

    done = _code(client, _totp(with_two_step[0], clock.now), next="/insights/")

    assert done["Location"] == "/insights/"


@pytest.mark.parametrize("outside", ["https://evil.example/", "//evil.example/x", "http://testserver.evil.example/"])
def test_a_next_to_another_site_is_ignored(client, manager, with_two_step, clock, outside):
    assert _password(client, next=outside)["Location"] == CODE_PAGE

    done = _code(client, _totp(with_two_step[0], clock.now), next=outside)

    assert done["Location"] == reverse("campaigns:list") and _signed_in(client)
