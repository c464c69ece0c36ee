"""Two-step sign-in: a code from an authenticator app (TOTP, RFC 6238) after the password, recovery codes, the setup
page, support staff required to use it, and the admin's way to turn it off for a lost phone."""

import base64
import hashlib
import hmac
import re
import struct
from urllib.parse import urlsplit

import pytest
import segno
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.accounts import team, two_step
from campaigns.models import Authenticator, RecoveryCode, User
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
CODE_PAGE = "/accounts/login/code/"
SETUP = "/accounts/two-step/"
T0 = 1_800_000_000  # the start of a 30-second step
NEW_PASSWORD = "a-brand-new-password-7"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # every sign-in checks a password; the production hasher would make these tests slow, not safer
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock(monkeypatch):
    """The clock codes and the 5-minute wait are read from, set by the test."""

    class Clock:
        now = T0 + 1.0

    monkeypatch.setattr(two_step, "_now", lambda: Clock.now)
    return Clock


# --- RFC 6238, written again here so the tests do not trust the code they test -----------------------------------


def _totp(secret: str, at: float, *, digits: int = 6) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[19] & 0xF
    number = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"


RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238's SHA-1 key
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize("at, code", RFC_VECTORS)
def test_codes_are_those_of_rfc_6238_sha1(at, code):
    assert _totp(RFC_SECRET, at, digits=8) == code
    assert two_step.totp_code(RFC_SECRET, step=two_step.time_step(at), digits=8) == code
    # the 6 digits an app shows are the last 6 of the 8 (the same number, modulo 10^6)
    assert two_step.totp_code(RFC_SECRET, step=two_step.time_step(at)) == code[-6:] == _totp(RFC_SECRET, at)


def test_a_new_secret_is_160_random_bits_in_base32_shown_in_groups_of_four():
    secret = two_step.secret_new()

    assert len(base64.b32decode(secret)) == 20 and secret != two_step.secret_new()
    assert two_step.secret_grouped(secret) == " ".join(re.findall("....", secret))


# --- Helpers -----------------------------------------------------------------------------------------------------


def _turn_on(user, clock) -> tuple[str, list[str]]:
    """Two-step sign-in on for `user`; the clock then moves on so the next code is a fresh one."""
    authenticator = two_step.authenticator_start(user=user)
    codes = two_step.authenticator_confirm(user=user, code=_totp(authenticator.secret, clock.now))
    clock.now += 300
    return authenticator.secret, codes


def _password(client, email: str = "manager@acme.test", password: str = PASSWORD, **fields):
    return client.post(LOGIN, {"username": email, "password": password, **fields})


def _code(client, code: str, **fields):
    return client.post(CODE_PAGE, {"code": code, **fields})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def with_two_step(manager, clock) -> tuple[str, list[str]]:
    return _turn_on(manager, clock)


# --- Setting it up -----------------------------------------------------------------------------------------------


def test_header_links_to_two_step_sign_in_next_to_change_password(client, manager):
    client.force_login(manager)

    content = client.get(reverse("campaigns:list")).content.decode()

    assert (
        f'<a href="{reverse("password_change")}">Change password</a>\n      <a href="{SETUP}">Two-step sign-in</a>'
        in (content)
    )


def test_setup_shows_a_key_and_a_code_from_it_turns_two_step_on_with_ten_recovery_codes_shown_once(
    client, manager, clock
):
    # given a signed-in manager with two-step sign-in off
    client.force_login(manager)
    assert "Off: your password alone signs you in." in client.get(SETUP).content.decode()

    # when they start: the page shows the key in groups of four and the otpauth:// address
    assert client.post(reverse("two_step_start"))["Location"] == SETUP
    page = client.get(SETUP).content.decode()
    grouped = re.search(r"<code data-two-step-secret>([A-Z2-7 ]+)</code>", page).group(1)
    secret = grouped.replace(" ", "")
    assert len(secret) == 32 and re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", grouped)
    uri = f"otpauth://totp/linktrack:manager@acme.test?secret={secret}&amp;issuer=linktrack&amp;algorithm=SHA1"
    assert uri in page
    assert "Being set up: not on yet." in page and not two_step.two_step_on(manager)

    # when a wrong code is entered, then it stays off
    wrong = client.post(reverse("two_step_confirm"), {"code": "000000"})
    assert "That code is not right" in wrong.content.decode() and not two_step.two_step_on(manager)

    # when the code the app shows (from the key typed in) is entered
    done = client.post(reverse("two_step_confirm"), {"code": _totp(secret, clock.now)})

    # then it is on and ten recovery codes are shown, this once; only their hashes are stored
    assert done.status_code == 200 and two_step.two_step_on(manager)
    codes = re.search(r"<pre data-recovery-codes>(.*?)</pre>", done.content.decode(), re.S).group(1).split()
    assert len(codes) == len(set(codes)) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    after = client.get(SETUP).content.decode()
    assert (
        "<strong data-two-step-status>On</strong>" in after and "<strong data-recovery-codes-left>10</strong>" in after
    )
    assert not any(code in after for code in codes) and secret not in after


def test_setup_shows_the_otpauth_address_as_a_qr_code_drawn_on_the_page_next_to_the_key(client, manager, monkeypatch):
    # given the QR code maker watched (decoding the image would test segno, not linktrack)
    encoded = []
    make_qr = segno.make_qr
    monkeypatch.setattr(
        segno, "make_qr", lambda content, **options: encoded.append(content) or make_qr(content, **options)
    )
    client.force_login(manager)

    # when setup starts
    client.post(reverse("two_step_start"))
    page = client.get(SETUP).content.decode()

    # then an inline SVG QR code of the otpauth:// address is on the page, and the key stays there to type
    secret = Authenticator.objects.get(user=manager).secret
    qr = re.search(r"<p data-two-step-qr>(.*?)</p>", page, re.S).group(1).strip()
    assert qr.startswith("<svg") and qr.endswith("</svg>") and "<path" in qr
    [address] = encoded
    assert address.startswith("otpauth://totp/linktrack:manager@acme.test?")
    assert f"secret={secret}" in address and "issuer=linktrack" in address
    assert two_step.secret_grouped(secret) in page


def test_turning_two_step_on_signs_the_user_out_of_their_other_sessions_and_says_so(client, manager, outsider, clock):
    # given the manager signed in on another browser too, and someone else signed in
    elsewhere, someone_else = Client(), Client()
    elsewhere.force_login(manager)
    someone_else.force_login(outsider)
    client.force_login(manager)
    before = client.session.session_key

    # when they turn two-step sign-in on here
    client.post(reverse("two_step_start"))
    secret = Authenticator.objects.get(user=manager).secret
    done = client.post(reverse("two_step_confirm"), {"code": _totp(secret, clock.now)})

    # then the other browser is signed out, this one stays signed in (with a new session key), and the page says so
    said = " ".join(done.content.decode().split())
    assert "You were signed out of 1 other session (other browsers or devices)" in said
    assert elsewhere.get(reverse("campaigns:list"))["Location"].startswith(LOGIN)
    assert client.get(reverse("campaigns:list")).status_code == 200 and client.session.session_key != before
    assert someone_else.get(reverse("campaigns:list")).status_code == 200


def test_starting_again_while_on_is_refused(client, manager, with_two_step):
    client.force_login(manager)
    secret = Authenticator.objects.get(user=manager).secret

    response = client.post(reverse("two_step_start"), follow=True)

    assert "Two-step sign-in is already on" in response.content.decode()
    assert Authenticator.objects.get(user=manager).secret == secret and two_step.two_step_on(manager)


def test_setup_pages_need_a_signed_in_user(client, db):
    for url in (SETUP, reverse("two_step_start")):
        response = client.post(url) if url != SETUP else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)


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
    client.force_login(superuser)
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
