"""Accounts: forgotten password by email, password change, and sign-in throttling."""

import logging
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import forms as auth_forms
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.accounts import sign_in
from tests.factories import PASSWORD

NEW_PASSWORD = "a-brand-new-password-7"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # every sign-in checks a password; the production hasher would make these tests slow, not safer
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _sign_in(client, email: str, password: str, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _reset_link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


# --- Forgot password ------------------------------------------------------------------------------------------


def test_login_page_offers_a_password_reset(client, db):
    response = client.get(LOGIN)

    assert 'href="/accounts/password/reset/">Forgot your password?</a>' in response.content.decode()


def test_reset_link_is_emailed_from_the_public_address_and_sets_a_new_password(client, manager, settings):
    # given a deployment whose public address differs from the host the request arrives on (behind a proxy)
    settings.PUBLIC_BASE_URL = "https://app.example.test"

    # when the manager asks for a reset
    response = client.post(reverse("password_reset"), {"email": "manager@acme.test"}, HTTP_HOST="localhost")

    # then one plain-text email from DEFAULT_FROM_EMAIL names linktrack and carries a link on the public address
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    [message] = mail.outbox
    assert message.to == ["manager@acme.test"] and message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "Reset your linktrack password" and not message.alternatives
    assert "linktrack account manager@acme.test" in message.body
    link = _reset_link(message)
    assert link.startswith("https://app.example.test/accounts/password/reset/")

    # when they follow it and choose a new password
    form_page = client.get(urlsplit(link).path, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )

    # then the password is changed: the new one signs in, the old one no longer does
    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")
    assert "Your password is changed" in done.content.decode()
    assert _sign_in(Client(), "manager@acme.test", PASSWORD).status_code == 200  # the form again, with an error
    assert _sign_in(client, "manager@acme.test", NEW_PASSWORD).status_code == 302 and _signed_in(client)


def test_reset_page_answers_an_unknown_address_exactly_as_a_known_one_and_sends_nothing(client, manager):
    known = client.post(reverse("password_reset"), {"email": "manager@acme.test"}, follow=True)
    mail.outbox.clear()

    unknown = client.post(reverse("password_reset"), {"email": "nobody@acme.test"}, follow=True)

    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.content == known.content and unknown.status_code == known.status_code == 200
    assert "If an account signs in with that address" in unknown.content.decode()
    assert mail.outbox == []


def test_a_used_reset_link_does_not_work_again(client, manager):
    client.post(reverse("password_reset"), {"email": "manager@acme.test"})
    path = urlsplit(_reset_link(mail.outbox[0])).path
    form_url = client.get(path)["Location"]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().get(path)

    assert again.status_code == 200
    content = again.content.decode()
    assert "This link does not work" in content and "new_password1" not in content
    assert f'href="{reverse("password_reset")}"' in content


def test_a_forged_reset_link_does_not_work(client, manager):
    path = urlsplit(_reset_link(_mail_for(client, "manager@acme.test"))).path
    forged = path.rstrip("/").rsplit("/", 1)[0] + "/abc-0123456789abcdef/"

    response = client.get(forged)

    assert "This link does not work" in response.content.decode()
    assert "new_password1" not in response.content.decode()


def _mail_for(client, email: str):
    client.post(reverse("password_reset"), {"email": email})
    return mail.outbox[-1]


# --- Change password ------------------------------------------------------------------------------------------


def test_header_links_to_change_password(client, manager):
    client.force_login(manager)

    response = client.get(reverse("campaigns:list"))

    assert f'<a href="{reverse("password_change")}">Change password</a>' in response.content.decode()


def test_change_password_needs_a_signed_in_user(client, db):
    response = client.get(reverse("password_change"))

    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_change_password_with_a_wrong_old_password_is_refused_with_a_reason(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("password_change"),
        {"old_password": "not-my-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)


def test_change_password_keeps_the_user_signed_in_and_retires_the_old_password(client, manager):
    _sign_in(client, "manager@acme.test", PASSWORD)
    elsewhere = Client()
    _sign_in(elsewhere, "manager@acme.test", PASSWORD)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("password_change_done")
    assert "Your password is changed" in response.content.decode()
    assert client.get(reverse("campaigns:list")).status_code == 200  # still signed in here
    assert elsewhere.get(reverse("campaigns:list")).status_code == 302  # another browser must sign in again
    assert _sign_in(Client(), "manager@acme.test", PASSWORD).status_code == 200  # refused: the form again
    assert _sign_in(Client(), "manager@acme.test", NEW_PASSWORD).status_code == 302


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


# --- CSRF -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, fields",
    [
        (LOGIN, {"username": "manager@acme.test", "password": PASSWORD}),
        ("/accounts/password/reset/", {"email": "manager@acme.test"}),
    ],
)
def test_account_forms_refuse_a_post_without_csrf_token(manager, url, fields):
    response = Client(enforce_csrf_checks=True).post(url, fields)

    assert response.status_code == 403
    assert mail.outbox == []


def test_change_password_refuses_a_post_without_csrf_token(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 403
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)


def test_new_password_form_refuses_a_post_without_csrf_token(manager):
    client = Client(enforce_csrf_checks=True)
    path = urlsplit(_reset_link(_mail_for(Client(), "manager@acme.test"))).path
    form_url = client.get(path)["Location"]

    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 403
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)
