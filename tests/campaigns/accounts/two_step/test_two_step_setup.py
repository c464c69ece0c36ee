"""Two-step sign-in with an authenticator app: RFC 6238 codes, and setting it up with a key, a QR code and
recovery codes."""

import base64
import hashlib
import re

import pytest
import segno
from django.test import Client
from django.urls import reverse

from campaigns.accounts import two_step
from campaigns.models import Authenticator, RecoveryCode
from tests.campaigns.accounts.two_step.helpers import LOGIN, SETUP, _totp

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
