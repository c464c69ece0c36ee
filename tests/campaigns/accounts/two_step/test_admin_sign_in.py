"""The admin has no sign-in of its own: every way in goes through the app's sign-in page, throttled and two-step."""

from django.test import Client
from django.urls import reverse

from tests.campaigns.accounts.two_step.helpers import CODE_PAGE, _code, _password, _signed_in, _totp, _turn_on
from tests.factories import PASSWORD

SUPPORT = "support@linktrack.test"
ADMIN_LOGIN = "/admin/login/"


def _admin_login(client, password: str = PASSWORD, **extra):
    return client.post(ADMIN_LOGIN, {"username": SUPPORT, "password": password, "next": "/admin/"}, **extra)


def test_the_admins_sign_in_with_the_password_alone_gives_no_session_to_staff_with_two_step(client, support, clock):
    # given support staff with two-step sign-in on
    _turn_on(support, clock)

    # when they post the right password to the admin's own sign-in form
    response = _admin_login(client)

    # then they are sent to the app's sign-in page, signed in to nothing
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert not _signed_in(client)
    assert client.get("/support/").status_code == 302
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"


def test_the_admin_opens_once_signed_in_through_the_app_with_the_code(client, support, clock):
    secret, _codes = _turn_on(support, clock)

    # the admin's sign-in link leads to the app's page, whose `next` comes back to the admin
    assert (
        client.get("/admin/login/?next=/admin/password_change/")["Location"]
        == "/accounts/login/?next=%2Fadmin%2Fpassword_change%2F"
    )
    to_code = _password(client, email=SUPPORT, next="/admin/password_change/")
    assert to_code["Location"].startswith(CODE_PAGE) and client.get("/admin/").status_code == 302
    done = _code(client, _totp(secret, clock.now), next="/admin/password_change/")

    assert done["Location"] == "/admin/password_change/"
    assert client.get("/admin/password_change/").status_code == 200


def test_the_admin_admits_no_session_the_sign_in_page_did_not_make(client, support):
    # a session signed in some other way (here by the test itself) is sent to the sign-in page
    client.force_login(support)
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"

    # signing in there opens it
    assert _password(client, email=SUPPORT, next="/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_signed_in_users_who_are_not_staff_are_refused_rather_than_asked_to_sign_in_again(client, manager):
    _password(client)
    assert client.get("/admin/").status_code == 302
    assert client.get(ADMIN_LOGIN).status_code == 403


def test_an_offsite_next_is_not_followed_from_the_admins_sign_in(client, db):
    response = client.get(ADMIN_LOGIN, {"next": "https://evil.test/"})
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_wrong_passwords_through_any_door_are_throttled(support, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 5

    # the admin's form checks no password at all, right or wrong
    admin = Client()
    answers = {_admin_login(admin, password=f"wrong-{n}")["Location"] for n in range(30)}
    assert answers == {"/accounts/login/?next=%2Fadmin%2F"} and not _signed_in(admin)

    # the sign-in page refuses after the limit, without checking the password, even the right one
    page = Client()
    statuses = [_password(page, email=SUPPORT, password=f"wrong-{n}").status_code for n in range(5)]
    assert statuses == [200] * 5
    refused = _password(page, email=SUPPORT)
    assert refused.status_code == 429 and not _signed_in(page)


def test_wrong_current_passwords_on_the_change_password_page_count_and_are_throttled(client, manager, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 3
    client.force_login(manager)
    change = reverse("password_change")
    fields = {"new_password1": "a-brand-new-password-7", "new_password2": "a-brand-new-password-7"}

    statuses = [client.post(change, {"old_password": f"wrong-{n}", **fields}).status_code for n in range(3)]
    refused = client.post(change, {"old_password": PASSWORD, **fields})

    assert statuses == [200] * 3
    assert refused.status_code == 429 and "Too many failed sign-ins for this address" in refused.content.decode()
    assert refused["Retry-After"]
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)
    # and the sign-in page counts them too
    assert _password(Client()).status_code == 429
