"""Two-step sign-in for support staff (required by a setting), in the admin, and the CSRF checks of its forms."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from campaigns.accounts import two_step
from campaigns.models import Authenticator, RecoveryCode, User
from tests.campaigns.accounts.two_step.helpers import (
    CODE_PAGE,
    LOGIN,
    SETUP,
    _code,
    _password,
    _signed_in,
    _totp,
    _turn_on,
)
from tests.factories import PASSWORD
from tests.helpers import admin_sign_in

# --- Support staff required --------------------------------------------------------------------------------------


def test_with_staff_required_support_without_two_step_is_sent_to_set_it_up_and_reaches_nothing_else(
    client, support, manager, clock, settings
):
    settings.STAFF_REQUIRE_TWO_STEP = True

    # when support signs in with the password, then every page leads to the setup page, saying why
    response = _password(client, email="support@linktrack.test", next="/support/")
    assert _signed_in(client)
    required = client.get(response["Location"])
    assert required.status_code == 302 and required["Location"] == f"{SETUP}?next=%2Fsupport%2F"
    for url in (reverse("campaigns:list"), "/admin/", reverse("password_change")):
        assert client.get(url)["Location"] == f"{SETUP}?next={url.replace('/', '%2F')}"
    assert client.post(reverse("campaigns:list"))["Location"] == SETUP
    page = client.get(SETUP)
    assert page.status_code == 200 and "Turn two-step sign-in on to continue" in page.content.decode()

    # when they set it up, then the recovery codes lead on to the page they asked for, and every page opens
    client.post(reverse("two_step_start"))
    secret = Authenticator.objects.get(user=support).secret
    done = client.post(reverse("two_step_confirm"), {"code": _totp(secret, clock.now), "next": "/support/"})
    assert 'href="/support/"' in done.content.decode()
    assert client.get("/support/").status_code == 200


def test_with_staff_required_other_users_are_not_asked(client, manager, settings):
    settings.STAFF_REQUIRE_TWO_STEP = True

    _password(client)

    assert client.get(reverse("campaigns:list")).status_code == 200


def test_with_staff_required_support_cannot_turn_it_off(client, support, clock, settings):
    secret, _codes = _turn_on(support, clock)
    settings.STAFF_REQUIRE_TWO_STEP = True
    client.force_login(support)
    assert "Turn off two-step sign-in" not in client.get(SETUP).content.decode()

    response = client.post(
        reverse("two_step_turn_off"), {"password": PASSWORD, "code": _totp(secret, clock.now)}, follow=True
    )

    assert '<li class="error">Support staff must keep two-step sign-in on.</li>' in response.content.decode()
    assert two_step.two_step_on(support)


def test_without_the_setting_support_signs_in_with_the_password_alone(client, support):
    _password(client, email="support@linktrack.test")

    assert client.get("/support/").status_code == 200


# --- Admin -------------------------------------------------------------------------------------------------------


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root@linktrack.test", PASSWORD)


def test_admin_lists_who_has_two_step_on_and_turns_it_off_for_a_lost_phone_with_a_log_entry(
    client, manager, with_two_step, superuser
):
    admin_sign_in(client, superuser)
    changelist = reverse("admin:campaigns_authenticator_changelist")
    listing = client.get(changelist).content.decode()
    assert "manager@acme.test" in listing and "Recovery codes left" in listing
    assert with_two_step[0] not in listing  # the secret is never shown
    assert 'value="delete_selected"' not in listing  # only the logged way to turn it off

    response = client.post(
        changelist,
        {"action": "turn_off", "_selected_action": [Authenticator.objects.get(user=manager).pk]},
        follow=True,
    )

    assert "Two-step sign-in is off for manager@acme.test" in response.content.decode()
    assert not two_step.two_step_on(manager)
    entry = LogEntry.objects.get(object_id=str(manager.pk))
    assert entry.user == superuser and "Turned off two-step sign-in" in entry.get_change_message()
    assert _password(Client())["Location"] == reverse("campaigns:list")


# --- CSRF --------------------------------------------------------------------------------------------------------


def test_the_code_page_refuses_a_post_without_csrf_token(manager, with_two_step, clock):
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    token = client.cookies["csrftoken"].value
    assert _password(client, csrfmiddlewaretoken=token)["Location"] == CODE_PAGE
    code = _totp(with_two_step[0], clock.now)

    assert _code(client, code).status_code == 403 and not _signed_in(client)
    assert _code(client, code, csrfmiddlewaretoken=token).status_code == 302 and _signed_in(client)


@pytest.mark.parametrize("name", ["two_step_start", "two_step_confirm", "two_step_turn_off", "two_step_recovery_codes"])
def test_setup_forms_refuse_a_post_without_csrf_token(manager, with_two_step, clock, name):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    before = list(Authenticator.objects.values_list("secret", "confirmed_at"))
    codes_before = set(RecoveryCode.objects.values_list("code_hash", flat=True))

    response = client.post(reverse(name), {"password": PASSWORD, "code": _totp(with_two_step[0], clock.now)})

    assert response.status_code == 403
    assert list(Authenticator.objects.values_list("secret", "confirmed_at")) == before
    assert set(RecoveryCode.objects.values_list("code_hash", flat=True)) == codes_before
