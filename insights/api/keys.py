"""API keys: created by a campaign manager, shown once, then known only by their hash; revoked at any time.

A key reads `lt_` and 43 URL-safe characters (32 random bytes). The database keeps its first 8 characters after
`lt_` (to recognise it in lists) and the SHA-256 of the whole key. A raw key is never logged nor stored.
"""

import hashlib
import math
import re
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Org, User
from insights.models import ApiKey

KEY_START = "lt_"
PREFIX_LENGTH = 8
_KEY_BYTES = 32
_KEY_SHAPE = re.compile(r"lt_[A-Za-z0-9_-]{43}")  # token_urlsafe(32): 43 characters, no padding
# A key used all day long records when it was last used to the minute, not with a write on every call.
LAST_USED_PRECISION = timedelta(minutes=1)
_RATE_WINDOW_SECONDS = 60


def hash_of(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def is_well_formed(raw_key: str) -> bool:
    return bool(_KEY_SHAPE.fullmatch(raw_key))


@transaction.atomic
def api_key_create(*, org: Org, user: User, name: str, can_write: bool = False) -> tuple[ApiKey, str]:
    """A new key of `org`, and the key itself: the caller shows it once, it cannot be read again. `can_write`: it
    may also send transactions in."""
    raw_key = KEY_START + secrets.token_urlsafe(_KEY_BYTES)
    api_key = ApiKey(
        org=org,
        name=name.strip(),
        prefix=raw_key[len(KEY_START) : len(KEY_START) + PREFIX_LENGTH],
        key_hash=hash_of(raw_key),
        created_by=user,
        can_write=can_write,
    )
    api_key.full_clean()
    api_key.save()
    return api_key, raw_key


def api_key_revoke(*, api_key: ApiKey, user: User) -> bool:
    """Revoke a key at once (its next call is refused); False when it was already revoked."""
    now = timezone.now()
    revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now)
    if revoked:
        api_key.revoked_at = now
    return bool(revoked)


def authenticate(raw_key: str) -> ApiKey | None:
    """The live key `raw_key` is, or None (malformed, unknown or revoked). Records when it was last used."""
    if not is_well_formed(raw_key):
        return None
    # A lookup by hash: comparing in constant time is not needed, the hash of a guess says nothing about a key.
    api_key = ApiKey.objects.filter(key_hash=hash_of(raw_key), revoked_at__isnull=True).first()
    if api_key is not None:
        _record_use(api_key)
    return api_key


def _record_use(api_key: ApiKey) -> None:
    now = timezone.now()
    stale = now - LAST_USED_PRECISION
    if api_key.last_used_at is not None and api_key.last_used_at > stale:
        return
    # Conditional, so that of several calls arriving together only the first writes.
    ApiKey.objects.filter(pk=api_key.pk).filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)).update(
        last_used_at=now
    )
    api_key.last_used_at = now


def rate_limit_wait(api_key: ApiKey) -> int:
    """0 while the key is within API_RATE_PER_MINUTE calls this minute; otherwise the seconds until the next minute.

    One counter per key and clock minute in Django's cache (Redis when REDIS_URL is set, so shared by every web
    process; local memory, per process, in the embedded mode).
    """
    now = time.time()
    window = int(now // _RATE_WINDOW_SECONDS)
    counter = f"api-rate:{api_key.pk}:{window}"
    cache.add(counter, 0, timeout=_RATE_WINDOW_SECONDS + 5)
    try:
        calls = cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, timeout=_RATE_WINDOW_SECONDS + 5)
        calls = 1
    if calls <= settings.API_RATE_PER_MINUTE:
        return 0
    return max(1, math.ceil((window + 1) * _RATE_WINDOW_SECONDS - now))
