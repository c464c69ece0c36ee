"""Signing in and the account pages around it: sign-in throttling, password reset by email, password change.

Django's own views do the work; this module adds what linktrack needs on top of them.

Two-step sign-in (linktrack.two_step): for a user who turned it on, a right password does not sign in; it leads to
the code page (linktrack.two_step_views), whose wrong codes are counted here like wrong passwords.

Throttling: failed sign-ins are counted per email address and per client address in Django's cache (Redis when
REDIS_URL is set, so shared by every web process; local memory, per process, in the embedded mode), in one-minute
buckets. A failure counts for LOGIN_FAILURE_WINDOW_MINUTES (to the minute), so the window slides rather than
resetting on the clock. Past LOGIN_FAILURE_LIMIT_PER_USER failures for an address, or LOGIN_FAILURE_LIMIT_PER_IP
from one client address, a sign-in is refused before its password is checked. `cache.incr` is atomic, so
attempts sent in parallel cannot slip past the limit. An address is counted whether or not it has an account, so
the refusal says nothing about which addresses exist.
"""

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from linktrack import two_step
from linktrack.client_ip import client_ip

logger = logging.getLogger(__name__)

_BUCKET_SECONDS = 60
_KEY_PREFIX = "sign-in-failures"


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


def _scope_key(scope: str, value: str) -> str:
    # hashed: keys hold no email address, and whatever a client sends stays a safe cache key
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"{_KEY_PREFIX}:{scope}:{digest}"


def _address_key(email: str) -> str:
    # Foo@acme.in and foo@acme.in are one address to count, so changing the case does not buy more attempts
    return _scope_key("address", email.strip().lower())


def _network_key(ip: str) -> str:
    return _scope_key("network", ip)


def _window_buckets(now: float) -> range:
    current = int(now // _BUCKET_SECONDS)
    return range(current - settings.LOGIN_FAILURE_WINDOW_MINUTES + 1, current + 1)


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
    buckets = _window_buckets(now)
    scopes = {
        "address": (_address_key(email), settings.LOGIN_FAILURE_LIMIT_PER_USER),
        "network": (_network_key(ip), settings.LOGIN_FAILURE_LIMIT_PER_IP),
    }
    keys = {f"{key}:{bucket}": bucket for key, _limit in scopes.values() for bucket in buckets}
    counts = cache.get_many(list(keys))  # one round trip for both scopes
    refusals = []
    for scope, (key, limit) in scopes.items():
        failures = {keys[name]: count for name, count in counts.items() if name.startswith(f"{key}:")}
        wait = _wait_seconds(failures, limit=limit, now=now)
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
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, code="throttled"):
            response.status_code = 429
            response["Retry-After"] = str(form.refusal.wait_seconds)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request: the same answer whether or not the address has an account.

    The emailed link is built from PUBLIC_BASE_URL rather than the request's Host: behind a proxy the request may
    name an internal host or plain http, and any host in ALLOWED_HOSTS (every short domain, a wildcard) would
    otherwise end up in the link.
    """

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        public = urlsplit(settings.PUBLIC_BASE_URL)
        form.save(
            # host and any path prefix, as the unsubscribe links are written (PUBLIC_BASE_URL + path)
            domain_override=public.netloc + public.path.rstrip("/"),
            use_https=public.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
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
