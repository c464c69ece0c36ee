"""Short codes: hashids over (short link id, message id), salted with a secret from the environment.

A code decodes without a database read, and each recipient gets a distinct code, so unique clicks are exact.
Message id 0 means "no recipient" (a link shared outside a campaign message).
"""

from functools import lru_cache

from django.conf import settings
from hashids import Hashids

MAX_CODE_LENGTH = 40


@lru_cache(maxsize=4)
def _codec(salt: str, alphabet: str, min_length: int) -> Hashids:
    return Hashids(salt=salt, min_length=min_length, alphabet=alphabet)


def _current_codec() -> Hashids:
    return _codec(settings.HASHIDS_SALT, settings.SHORT_CODE_ALPHABET, settings.SHORT_CODE_MIN_LENGTH)


@lru_cache(maxsize=4)
def _single_case(alphabet: str) -> bool:
    return alphabet == alphabet.upper()


def encode(short_link_id: int, message_id: int | None) -> str:
    return _current_codec().encode(short_link_id, message_id or 0)


def decode(code: str) -> tuple[int, int] | None:
    """(short link id, message id) for a code this system minted, else None. Never raises."""
    if not code or len(code) > MAX_CODE_LENGTH or not code.isascii():
        return None
    if _single_case(settings.SHORT_CODE_ALPHABET):
        # A code typed by hand or lowercased by an app still means the same link when the alphabet has one case.
        code = code.upper()
    try:
        # hashids returns numbers only for the canonical code of those numbers (it re-encodes and compares), so
        # strings it never produced decode to nothing.
        numbers = _current_codec().decode(code)
    except Exception:  # it is not written for hostile input; a code it chokes on is simply not ours
        return None
    # Ids are 64-bit in the database; a larger number cannot be ours and would fail a query.
    if len(numbers) != 2 or max(numbers) >= 2**63:
        return None
    return numbers[0], numbers[1]
