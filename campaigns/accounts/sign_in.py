"""Signing in and the account pages around it: sign-in throttling, password reset by email, password change.

Django's own views do the work; this module adds what linktrack needs on top of them.

Two-step sign-in (campaigns.accounts.two_step): for a user who turned it on, a right password does not sign in; it leads to
the code page (campaigns.accounts.two_step_views), whose wrong codes are counted here like wrong passwords.

Throttling: failed sign-ins are counted per email address and per client address in Django's cache (Redis when
REDIS_URL is set, so shared by every web process; local memory, per process, in the embedded mode), in one-minute
buckets. A failure counts for LOGIN_FAILURE_WINDOW_MINUTES (to the minute), so the window slides rather than
resetting on the clock. Past LOGIN_FAILURE_LIMIT_PER_USER failures for an address, or LOGIN_FAILURE_LIMIT_PER_IP
from one client address, a sign-in is refused before its password is checked. `cache.incr` is atomic, so
attempts sent in parallel cannot slip past the limit. An address is counted whether or not it has an account, so
the refusal says nothing about which addresses exist.

Password-reset requests are counted the same way (their own keys, limits and window, PASSWORD_RESET_*), so nobody
can make linktrack mail an inbox without end, or probe addresses at speed. Every request counts, sent or not, and
is counted before the limit is read: parallel requests cannot slip past it. Past a limit, no email is sent but the
page answers as always, so it never tells whether an address was throttled (nor whether it has an account); the
refusal is logged.
"""

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from campaigns.accounts import tasks, two_step
from linktrack.common.client_ip import client_ip

logger = logging.getLogger(__name__)

# Set in the session by the sign-in page (and the two-step code page after it): the admin admits only sessions that
# carry it (campaigns.accounts.admin_site), so none signed in any other way reaches it.
_SIGNED_IN_HERE = "signed_in_here"
_BUCKET_SECONDS = 60
_KEY_PREFIX = "sign-in-failures"
_RESET_KEY_PREFIX = "password-reset-requests"


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is refused, and for how long."""

    scope: str  # "address" (too many failures for the email) or "network" (from the client address)
    wait_seconds: int

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.wait_seconds / 60))
        wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
        source = "for this address" if self.scope == "address" else "from your network"
        return f"Too many failed sign-ins {source}; try again in {wait} or reset your password."


def _now() -> float:
    return time.time()


def _scope_key(scope: str, value: str, *, prefix: str = _KEY_PREFIX) -> str:
    # hashed: keys hold no email address, and whatever a client sends stays a safe cache key
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"{prefix}:{scope}:{digest}"


def _address_key(email: str, *, prefix: str = _KEY_PREFIX) -> str:
    # Foo@acme.in and foo@acme.in are one address to count, so changing the case does not buy more attempts
    return _scope_key("address", email.strip().lower(), prefix=prefix)


def _network_key(ip: str, *, prefix: str = _KEY_PREFIX) -> str:
    return _scope_key("network", ip, prefix=prefix)


def _window_buckets(now: float, *, window: int | None = None) -> range:
    current = int(now // _BUCKET_SECONDS)
    window = settings.LOGIN_FAILURE_WINDOW_MINUTES if window is None else window
    return range(current - window + 1, current + 1)


def _counts_in_window(keys: list[str], *, now: float, window: int) -> dict[str, dict[int, int]]:
    """Per key, its count in each one-minute bucket of the window: one cache round trip for all of them."""
    names = {f"{key}:{bucket}": (key, bucket) for key in keys for bucket in _window_buckets(now, window=window)}
    counts: dict[str, dict[int, int]] = {key: {} for key in keys}
    for name, count in cache.get_many(list(names)).items():
        key, bucket = names[name]
        counts[key][bucket] = count
    return counts


def _wait_seconds(failures: dict[int, int], *, limit: int, now: float) -> int:
    """0 while fewer than `limit` failures are in the window; else the seconds until enough have left it."""
    remaining = sum(failures.values())
    if remaining < limit:
        return 0
    window = settings.LOGIN_FAILURE_WINDOW_MINUTES
    for bucket in sorted(failures):
        remaining -= failures[bucket]
        if remaining < limit:
            # a failure in this bucket counts until the bucket is `window` minutes old
            return max(1, math.ceil((bucket + window) * _BUCKET_SECONDS - now))
    return window * _BUCKET_SECONDS  # a limit of 0 refuses every sign-in


def sign_in_refusal(*, email: str, ip: str) -> Refusal | None:
    """The refusal an attempt to sign in as `email` from `ip` gets now, if any; a refusal is logged (no password)."""
    now = _now()
    scopes = {
        "address": (_address_key(email), settings.LOGIN_FAILURE_LIMIT_PER_USER),
        "network": (_network_key(ip), settings.LOGIN_FAILURE_LIMIT_PER_IP),
    }
    counts = _counts_in_window(
        [key for key, _limit in scopes.values()], now=now, window=settings.LOGIN_FAILURE_WINDOW_MINUTES
    )
    refusals = []
    for scope, (key, limit) in scopes.items():
        wait = _wait_seconds(counts[key], limit=limit, now=now)
        if wait:
            refusals.append(Refusal(scope=scope, wait_seconds=wait))
    if not refusals:
        return None
    refusal = max(refusals, key=lambda r: r.wait_seconds)
    logger.warning(
        "Sign-in refused without checking the password: too many failures for the %s (email %r, client %r); "
        "refused for %d more seconds",
        refusal.scope,
        email,
        ip,
        refusal.wait_seconds,
    )
    return refusal


def sign_in_failure_record(*, email: str, ip: str) -> None:
    """Count one failed sign-in against the address and the client address."""
    bucket = int(_now() // _BUCKET_SECONDS)
    timeout = (settings.LOGIN_FAILURE_WINDOW_MINUTES + 1) * _BUCKET_SECONDS
    for key in (_address_key(email), _network_key(ip)):
        _increment(f"{key}:{bucket}", timeout=timeout)


def sign_in_failures_clear(*, email: str) -> None:
    """Forget an address's failures: its owner has just proved they hold the password (or the mailbox)."""
    key = _address_key(email)
    cache.delete_many([f"{key}:{bucket}" for bucket in _window_buckets(_now())])


def password_reset_request_allowed(*, email: str, ip: str) -> bool:
    """Count one request to email `email` a reset link, from `ip`; False when it is one too many for the address or
    for the client address within PASSWORD_RESET_WINDOW_MINUTES: no email must then be sent. A refusal is logged."""
    now = _now()
    window = settings.PASSWORD_RESET_WINDOW_MINUTES
    scopes = {
        "address": (_address_key(email, prefix=_RESET_KEY_PREFIX), settings.PASSWORD_RESET_LIMIT_PER_ADDRESS),
        "network": (_network_key(ip, prefix=_RESET_KEY_PREFIX), settings.PASSWORD_RESET_LIMIT_PER_IP),
    }
    bucket = int(now // _BUCKET_SECONDS)
    for key, _limit in scopes.values():
        _increment(f"{key}:{bucket}", timeout=(window + 1) * _BUCKET_SECONDS)
    counts = _counts_in_window([key for key, _limit in scopes.values()], now=now, window=window)
    over = [scope for scope, (key, limit) in scopes.items() if sum(counts[key].values()) > limit]
    if over:
        logger.warning(
            "Password reset email not sent: too many requests for the %s within %d minutes (email %r, client %r)",
            " and the ".join(over),
            window,
            email,
            ip,
        )
    return not over


def signed_in_here_mark(session) -> None:
    """Call right after signing a user in through the sign-in page (and its two-step code, when it is on)."""
    session[_SIGNED_IN_HERE] = True


def signed_in_here(session) -> bool:
    return bool(session.get(_SIGNED_IN_HERE))


def _increment(key: str, *, timeout: int) -> None:
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing an attempt without checking its password while it is throttled."""

    refusal: Refusal | None = None

    def clean(self):
        email = self.cleaned_data.get("username")
        if not email:
            return super().clean()  # the field's own "required" error; no password is checked
        ip = client_ip(self.request)
        self.refusal = sign_in_refusal(email=email, ip=ip)
        if self.refusal:
            raise ValidationError(self.refusal.message, code="throttled")
        try:
            return super().clean()
        except ValidationError:
            sign_in_failure_record(email=email, ip=ip)
            raise


class SignInView(auth_views.LoginView):
    """The sign-in page: a throttled attempt is answered 429 with the wait in words and in Retry-After."""

    form_class = SignInForm

    def form_valid(self, form):
        user = form.get_user()
        if two_step.two_step_on(user):
            # Not signed in yet: the code page comes next. The address's failures are cleared only once the code is
            # right too, or a known password would reset the count of wrong codes between guesses.
            two_step.pending_sign_in_start(self.request.session, user=user, backend=user.backend)
            next_url = self.get_redirect_url()
            code_page = reverse("two_step_sign_in")
            return HttpResponseRedirect(f"{code_page}?{urlencode({'next': next_url})}" if next_url else code_page)
        sign_in_failures_clear(email=user.email)
        response = super().form_valid(form)
        signed_in_here_mark(self.request.session)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, code="throttled"):
            response.status_code = 429
            response["Retry-After"] = str(form.refusal.wait_seconds)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request: the same answer, after the same work, whether or not the address has an account and
    whether or not the request was throttled. The email is sent by a task (campaigns.accounts.password_reset), so
    the time the page takes tells nothing either."""

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        # throttled: nothing is sent, and the page says what it always says (see the module's docstring)
        if password_reset_request_allowed(email=email, ip=client_ip(self.request)):
            # Queued at once, not on commit: the request writes nothing the task needs.
            tasks.password_reset_email_send_task.delay(email)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's new-password page; setting a password also lifts the address's sign-in throttle, as the refusal
    message promises ("or reset your password")."""

    def form_valid(self, form):
        # A new password leaves two-step sign-in on: the mailbox does not stand in for the phone, so a view that
        # signs in after setting the password (an invitation) leaves that to the sign-in page and its code.
        if two_step.two_step_on(self.user):
            self.post_reset_login = False
        response = super().form_valid(form)
        sign_in_failures_clear(email=self.user.email)
        return response


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The current password asked to change it is a sign-in like any other: throttled, and a wrong one counts."""

    refusal: Refusal | None = None
    request = None  # set by the view

    def clean_old_password(self):
        email, ip = self.user.email, client_ip(self.request)
        self.refusal = sign_in_refusal(email=email, ip=ip)
        if self.refusal:
            raise ValidationError(self.refusal.message, code="throttled")
        try:
            return super().clean_old_password()
        except ValidationError:
            sign_in_failure_record(email=email, ip=ip)
            raise


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (other browsers signed out, this one kept), throttled like the sign-in page."""

    form_class = ThrottledPasswordChangeForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.request = self.request
        return form

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.refusal:
            response.status_code = 429
            response["Retry-After"] = str(form.refusal.wait_seconds)
        return response
