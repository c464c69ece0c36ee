"""Two-step sign-in turned off, new recovery codes, and a password reset that leaves two-step on."""

import re
from urllib.parse import urlsplit

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.accounts import team, two_step
from campaigns.models import Authenticator, RecoveryCode
from tests.campaigns.accounts.two_step.helpers import CODE_PAGE, NEW_PASSWORD, _code, _password, _signed_in, _totp
from tests.factories import PASSWORD

# --- Turning it off, new recovery codes --------------------------------------------------------------------------


def test_turning_off_needs_the_password_and_a_code(client, manager, with_two_step, clock):
    secret, _codes = with_two_step
    client.force_login(manager)
    url = reverse("two_step_turn_off")

    wrong_password = client.post(url, {"password": "not-my-password", "code": _totp(secret, clock.now)})
    wrong_code = client.post(url, {"password": PASSWORD, "code": "000000"})
    for response in (wrong_password, wrong_code):
        assert "The password or the code is not right." in response.content.decode()
    assert two_step.two_step_on(manager)

    done = client.post(url, {"password": PASSWORD, "code": _totp(secret, clock.now)}, follow=True)

    assert "Two-step sign-in is off" in done.content.decode() and not two_step.two_step_on(manager)
    assert not RecoveryCode.objects.exists()
    assert _password(Client()).status_code == 302  # the password alone signs in again


def test_wrong_tries_to_turn_off_count_against_the_sign_in_throttle(client, manager, with_two_step, clock, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USER = 2
    client.force_login(manager)
    url = reverse("two_step_turn_off")
    for guess in ("guess-1", "guess-2"):
        client.post(url, {"password": guess, "code": "000000"})

    refused = client.post(url, {"password": PASSWORD, "code": _totp(with_two_step[0], clock.now)})

    assert refused.status_code == 429 and two_step.two_step_on(manager)


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(client, manager, with_two_step, clock):
    secret, old_codes = with_two_step
    client.force_login(manager)
    url = reverse("two_step_recovery_codes")

    assert "That code is not right" in client.post(url, {"code": "000000"}).content.decode()
    response = client.post(url, {"code": _totp(secret, clock.now)})

    new_codes = re.search(r"<pre data-recovery-codes>(.*?)</pre>", response.content.decode(), re.S).group(1).split()
    assert "Your new recovery codes" in response.content.decode() and len(new_codes) == 10
    visitor = Client()
    _password(visitor)
    assert _code(visitor, old_codes[0]).status_code == 200
    assert _code(visitor, new_codes[0]).status_code == 302


# --- Password reset ----------------------------------------------------------------------------------------------


def test_a_password_reset_leaves_two_step_on_and_says_so(client, manager, with_two_step, clock):
    form = client.get(reverse("password_reset")).content.decode()
    assert "If you use two-step sign-in, it stays on" in form
    client.post(reverse("password_reset"), {"email": "manager@acme.test"})
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    form_url = client.get(urlsplit(link).path)["Location"]

    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)

    assert "it is still on" in done.content.decode()
    assert two_step.two_step_on(manager) and not _signed_in(client)
    assert _password(client, password=NEW_PASSWORD)["Location"] == CODE_PAGE and not _signed_in(client)


def test_a_link_that_signs_in_after_the_password_is_set_leaves_the_code_to_the_sign_in_page(client, org, manager):
    # given an invitee who (somehow) has two-step sign-in on before joining
    invitee = team.member_invite(org=org, email="priya@acme.test", invited_by=manager).user
    Authenticator.objects.create(user=invitee, secret=two_step.secret_new(), confirmed_at=timezone.now())

    # when they choose a password through the invitation link, then they are not signed in without the code
    form_url = client.get(urlsplit(team.invitation_link(invitee)).path)["Location"]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not _signed_in(client)
    invitee.refresh_from_db()
    assert invitee.check_password(NEW_PASSWORD)
