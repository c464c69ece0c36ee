"""Accounts: forgotten password by email, password change, and the CSRF checks of their forms."""

from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.accounts import sign_in
from campaigns.accounts.tasks import password_reset_email_send_task
from tests.campaigns.accounts.helpers import LOGIN, NEW_PASSWORD, _mail_for, _reset_link, _sign_in, _signed_in
from tests.factories import PASSWORD

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


def test_reset_page_queues_the_email_for_a_worker_and_does_the_same_work_for_any_address(
    client, manager, monkeypatch, django_assert_max_num_queries
):
    # given a worker queue that only records what it is given
    queued = []

    class Queue:
        @staticmethod
        def delay(email):
            queued.append(email)

    monkeypatch.setattr(sign_in.tasks, "password_reset_email_send_task", Queue)

    # when a known and an unknown address ask for a reset, neither request touches the database
    for email in ("manager@acme.test", "nobody@acme.test"):
        with django_assert_max_num_queries(0):
            response = client.post(reverse("password_reset"), {"email": email})
        assert response.status_code == 302

    # then both are queued alike and nothing was sent while the page answered
    assert queued == ["manager@acme.test", "nobody@acme.test"]
    assert mail.outbox == []

    # when the worker runs the tasks, the account's owner gets the link, and nobody else anything
    for email in queued:
        password_reset_email_send_task(email)
    [message] = mail.outbox
    assert message.to == ["manager@acme.test"] and "/accounts/password/reset/" in _reset_link(message)


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
