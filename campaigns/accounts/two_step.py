"""Two-step sign-in: after the password, a code from an authenticator app (TOTP, RFC 6238) or a recovery code.

TOTP here is RFC 6238 over HMAC-SHA1 with 6 digits and 30-second steps, as every authenticator app reads an
otpauth:// address by default. A code of the step before or after the current one is accepted too (a phone's clock
a little off, a code typed as it changed). A code works once: the last step used is claimed with a conditional
UPDATE, so a code seen over someone's shoulder, or sent twice at the same moment, is refused the second time.

Recovery codes (10, shown once) are random enough that one SHA-256 is all they need in the database; a slow
password hash would only slow every sign-in that uses one.

Between the password and the code, the session holds only "the password of user X was checked at T" (see
`pending_sign_in_start`): the user is not signed in, and the state lasts PENDING_SIGN_IN_SECONDS.

Setup shows the otpauth:// address as a QR code drawn here as inline SVG (segno): the secret never leaves in an
image request to a third party, and the page needs no script. Turning two-step sign-in on signs the user out of
their other sessions (`other_sessions_end`): someone signed in with a stolen password would otherwise stay signed in.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import struct
import time
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.safestring import SafeString, mark_safe

from campaigns.models import Authenticator, RecoveryCode

logger = logging.getLogger(__name__)

ISSUER = "linktrack"
STEP_SECONDS = 30
DIGITS = 6
ACCEPTED_STEPS = (-1, 0, 1)
RECOVERY_CODE_COUNT = 10
# no 0/o, 1/l/i: read off a printout or a screen without doubt
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
PENDING_SIGN_IN_SECONDS = 5 * 60
_PENDING_KEY = "two_step_pending"


def _now() -> float:
    return time.time()


# --- TOTP (RFC 4226 HOTP, RFC 6238 time steps) -------------------------------------------------------------------


def hotp(key: bytes, counter: int, *, digits: int = DIGITS) -> str:
    """RFC 4226: HMAC-SHA1 of the 8-byte counter, dynamically truncated to `digits` decimal digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def time_step(at: float) -> int:
    return int(at // STEP_SECONDS)


def totp_code(secret: str, *, step: int, digits: int = DIGITS) -> str:
    """The code an authenticator app shows for base32 `secret` during time step `step`."""
    return hotp(_secret_key(secret), step, digits=digits)


def _secret_key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def secret_new() -> str:
    """160 random bits (the HMAC-SHA1 key length RFC 4226 recommends), base32 without padding: 32 characters."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def secret_grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(*, secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads (as a QR code, or pasted)."""
    label = quote(f"{ISSUER}:{email}", safe="@:")
    query = urlencode(
        {"secret": secret, "issuer": ISSUER, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"


def provisioning_qr_svg(uri: str) -> SafeString:
    """The otpauth:// address as a QR code an authenticator app scans: an inline SVG, black on white (a white quiet
    zone included, so a dark page does not hide it), 4 pixels a module."""
    qr = segno.make_qr(uri, error="m")
    svg = qr.svg_inline(
        scale=4, dark="#000", light="#fff", title="QR code of your two-step sign-in key", svgclass="two-step-qr"
    )
    return mark_safe(svg)  # drawn by segno from the address: modules, not its text; the title is ours


# --- Reads ---------------------------------------------------------------------------------------------------------


def two_step_on(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, confirmed_at__isnull=False).exists()


def authenticator_for_user(user) -> Authenticator | None:
    return Authenticator.objects.filter(user_id=user.pk).first()


def staff_must_set_up(user) -> bool:
    """True for support staff without two-step sign-in while STAFF_REQUIRE_TWO_STEP is on (no query when off)."""
    if not (settings.STAFF_REQUIRE_TWO_STEP and user.is_authenticated and user.is_staff):
        return False
    return not two_step_on(user)


def recovery_codes_left(authenticator: Authenticator) -> int:
    return authenticator.recovery_codes.filter(used_at__isnull=True).count()


# --- Codes ---------------------------------------------------------------------------------------------------------


def _normalized(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _totp_check(authenticator: Authenticator, code: str) -> bool:
    """A current code (±1 step) that has not been used yet; using it claims its step and every step before."""
    current = time_step(_now())
    step = next(
        (
            current + offset
            for offset in ACCEPTED_STEPS
            if hmac.compare_digest(totp_code(authenticator.secret, step=current + offset), code)
        ),
        None,
    )
    if step is None:
        return False
    # conditional UPDATE: of two requests with the same code, one claims the step and the other is refused
    claimed = Authenticator.objects.filter(pk=authenticator.pk, last_used_step__lt=step).update(last_used_step=step)
    if claimed:
        authenticator.last_used_step = step
    return bool(claimed)


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _recovery_check(authenticator: Authenticator, code: str) -> bool:
    claimed = RecoveryCode.objects.filter(
        authenticator=authenticator, code_hash=_recovery_hash(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    if claimed:
        logger.info("Two-step sign-in: %s used a recovery code", authenticator.user_id)
    return bool(claimed)


def code_check(*, authenticator: Authenticator, code: str, recovery: bool = True) -> bool:
    """True when `code` is a current, unused code from the app, or (with `recovery`) an unused recovery code;
    either is then used up."""
    code = _normalized(code)
    if len(code) == DIGITS and code.isdigit():
        return _totp_check(authenticator, code)
    if recovery and len(code) == _RECOVERY_LENGTH:
        return _recovery_check(authenticator, code)
    return False


def _recovery_code_new() -> str:
    code = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{code[:5]}-{code[5:]}"


# --- Writes --------------------------------------------------------------------------------------------------------


@transaction.atomic
def authenticator_start(*, user) -> Authenticator:
    """A new secret for `user` to add to their app; two-step sign-in is not on until a code confirms it."""
    existing = Authenticator.objects.select_for_update().filter(user_id=user.pk).first()
    if existing and existing.is_on:
        raise ValidationError("Two-step sign-in is already on. Turn it off first to move it to another app.")
    if existing:
        existing.delete()
    authenticator = Authenticator(user=user, secret=secret_new())
    authenticator.full_clean()
    authenticator.save()
    return authenticator


@transaction.atomic
def authenticator_confirm(*, user, code: str) -> list[str]:
    """Turn two-step sign-in on with a code from the app just set up; returns the recovery codes (shown once)."""
    authenticator = Authenticator.objects.select_for_update().filter(user_id=user.pk).first()
    if authenticator is None:
        raise ValidationError("Start again: no authenticator app is being set up.")
    if authenticator.is_on:
        raise ValidationError("Two-step sign-in is already on.")
    if not code_check(authenticator=authenticator, code=code, recovery=False):
        raise ValidationError("That code is not right. Enter the 6-digit code your app shows now.", code="wrong_code")
    authenticator.confirmed_at = timezone.now()
    authenticator.save(update_fields=["confirmed_at"])
    logger.info("Two-step sign-in turned on for %s", user.email)
    return recovery_codes_regenerate(authenticator=authenticator)


@transaction.atomic
def recovery_codes_regenerate(*, authenticator: Authenticator) -> list[str]:
    """Ten new recovery codes; the old ones stop working. Only their hashes are kept."""
    codes = [_recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    authenticator.recovery_codes.all().delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(authenticator=authenticator, code_hash=_recovery_hash(_normalized(code))) for code in codes]
    )
    return codes


@transaction.atomic
def two_step_turn_off(*, user, password: str, code: str) -> None:
    """The user turns two-step sign-in off, proving both the password and a code (or a recovery code)."""
    authenticator = (
        Authenticator.objects.select_for_update().filter(user_id=user.pk, confirmed_at__isnull=False).first()
    )
    if authenticator is None:
        raise ValidationError("Two-step sign-in is not on.")
    if settings.STAFF_REQUIRE_TWO_STEP and user.is_staff:
        raise ValidationError("Support staff must keep two-step sign-in on.")
    # both are checked whatever the first answers, and the refusal does not say which was wrong
    password_right = user.check_password(password)
    code_right = code_check(authenticator=authenticator, code=code)
    if not (password_right and code_right):
        raise ValidationError("The password or the code is not right.", code="wrong_credentials")
    authenticator.delete()
    logger.info("Two-step sign-in turned off by %s", user.email)


@transaction.atomic
def two_step_turn_off_by_support(*, user, by) -> bool:
    """Support turns two-step sign-in off for a user who lost their phone and recovery codes. False: it was off."""
    deleted, _ = Authenticator.objects.filter(user_id=user.pk).delete()
    if deleted:
        logger.warning("Two-step sign-in of %s turned off by %s (support)", user.email, by.email)
    return bool(deleted)


def other_sessions_end(*, user, keep_session_key: str | None) -> int:
    """Sign `user` out everywhere but the session `keep_session_key`; returns how many sessions ended.

    Django ties a session to the password hash, so a password change signs other browsers out by itself; turning
    two-step sign-in on changes no password, so the user's sessions are looked up and deleted. Sessions are stored
    in the database (SESSION_ENGINE's default), and each must be decoded to know whose it is: turning two-step
    sign-in on is rare enough to afford reading the unexpired ones.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    unexpired = store.get_model_class().objects.filter(expire_date__gt=timezone.now())
    user_id = str(user.pk)
    ended = 0
    for session_key, session_data in unexpired.values_list("session_key", "session_data").iterator(chunk_size=500):
        if session_key == keep_session_key or str(store().decode(session_data).get(SESSION_KEY)) != user_id:
            continue
        store(session_key).delete()  # through the store: a cached_db engine forgets its cached copy too
        ended += 1
    if ended:
        logger.info("Two-step sign-in turned on: %s signed out of %d other sessions", user.email, ended)
    return ended


# --- Between the password and the code -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingSignIn:
    user: object
    authenticator: Authenticator
    backend: str


def pending_sign_in_start(session, *, user, backend: str) -> None:
    """Remember in the session that `user`'s password was just checked; they are not signed in."""
    session[_PENDING_KEY] = {
        "user_id": user.pk,
        "backend": backend,
        "at": _now(),
        # a password changed meanwhile (a reset by its owner) ends the pending sign-in
        "password": user.get_session_auth_hash(),
    }


def pending_sign_in(session) -> PendingSignIn | None:
    """The user whose password was checked less than PENDING_SIGN_IN_SECONDS ago in this session, if any."""
    pending = session.get(_PENDING_KEY)
    if not pending or _now() - pending["at"] >= PENDING_SIGN_IN_SECONDS:
        return None
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash(), pending["password"]):
        return None
    authenticator = Authenticator.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()
    if authenticator is None:  # turned off meanwhile (by support): the password is asked again, then signs in
        return None
    return PendingSignIn(user=user, authenticator=authenticator, backend=pending["backend"])


def pending_sign_in_clear(session) -> None:
    session.pop(_PENDING_KEY, None)
