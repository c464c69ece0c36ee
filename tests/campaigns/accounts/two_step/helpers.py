"""Helpers of the two-step sign-in tests: RFC 6238 codes written again, turning it on, the sign-in forms."""

import base64
import hashlib
import hmac
import struct

from campaigns.accounts import two_step
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
CODE_PAGE = "/accounts/login/code/"
SETUP = "/accounts/two-step/"
T0 = 1_800_000_000  # the start of a 30-second step
NEW_PASSWORD = "a-brand-new-password-7"


# --- RFC 6238, written again here so the tests do not trust the code they test -----------------------------------


def _totp(secret: str, at: float, *, digits: int = 6) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[19] & 0xF
    number = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"


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
