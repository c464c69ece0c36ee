"""Two-step sign-in: codes from an authenticator app (TOTP, RFC 6238)."""

import base64
import hashlib
import hmac
import re
import struct

import pytest

from linktrack import two_step

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
