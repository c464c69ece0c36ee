"""Short codes: hashids over (short link id, message id), salted with a secret from the environment.

A code decodes without a database read, and each recipient gets a distinct code, so unique clicks are exact.
Message id 0 means "no recipient" (a link shared outside a campaign message).
"""

import re
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from hashids import Hashids, _reorder

MAX_CODE_LENGTH = 40


@lru_cache(maxsize=4)
def _codec(salt: str, alphabet: str, min_length: int) -> Hashids:
    return Hashids(salt=salt, min_length=min_length, alphabet=alphabet)


class PairEncoder:
    """The hashids encoding of exactly two numbers, same output as `Hashids.encode(a, b)`, about 5x faster.

    Rendering a campaign mints two codes per message, and hashids reshuffles its alphabet (a Python loop over
    every character) twice per code. For two numbers every shuffle depends only on the "lottery" character, one
    of the alphabet's characters, so all of them are computed once here. The redirect decodes a code per click,
    and decoding reshuffles the same way: `decode` looks the alphabets up too.
    """

    def __init__(self, codec: Hashids):
        self._codec = codec
        alphabet, salt = codec._alphabet, codec._salt
        self._separators, self._guards, self._min_length = codec._separators, codec._guards, codec._min_length
        self._length = len(alphabet)
        # A code typed by hand or lowercased by an app still means the same link when the alphabet has one case.
        characters = alphabet + self._separators + self._guards
        self.single_case = characters == characters.upper()
        # Padding to min_length adds at least one alphabet length per round, after a guard on each side.
        rounds = self._min_length // max(2 * (self._length // 2), 1) + 1
        self._tables = []
        for lottery in alphabet:
            first = _reorder(alphabet, (lottery + salt + alphabet)[: self._length])
            second = _reorder(first, (lottery + salt + first)[: self._length])
            padding = [_reorder(second, second)]
            while len(padding) < rounds:
                padding.append(_reorder(padding[-1], padding[-1]))
            self._tables.append((lottery, first, second, tuple(padding)))
        self._positions = {
            lottery: (_positions(first), _positions(second)) for lottery, first, second, _ in self._tables
        }
        self._guard_split = re.compile(f"[{re.escape(self._guards)}]")
        self._separator_split = re.compile(f"[{re.escape(self._separators)}]")

    def decode(self, code: str) -> tuple[int, int] | None:
        """The pair behind `code`, as `Hashids.decode` reads it, or None. Like hashids, it re-encodes what it read
        and accepts only that exact code, so a string this encoder never minted decodes to nothing."""
        parts = self._guard_split.split(code)
        core = parts[1] if 2 <= len(parts) <= 3 else parts[0]
        positions = self._positions.get(core[:1])
        pieces = self._separator_split.split(core[1:])
        if positions is None or len(pieces) != 2:
            return None
        first, second = _unhash(pieces[0], positions[0]), _unhash(pieces[1], positions[1])
        if first is None or second is None or self.encode(first, second) != code:
            return None
        return first, second

    def encode(self, first_number: int, second_number: int) -> str:
        if type(first_number) is not int or type(second_number) is not int or min(first_number, second_number) < 0:
            return self._codec.encode(first_number, second_number)
        values_hash = first_number % 100 + second_number % 101
        lottery, first_alphabet, second_alphabet, padding = self._tables[values_hash % self._length]
        first = _hash(first_number, first_alphabet, self._length)
        separators = self._separators
        encoded = (
            lottery
            + first
            + separators[(first_number % ord(first[0])) % len(separators)]
            + _hash(second_number, second_alphabet, self._length)
        )
        if len(encoded) >= self._min_length:
            return encoded
        return self._padded(encoded, values_hash, padding)

    def encoder_for(self, first_number: int) -> Callable[[int], str]:
        """`encode(first_number, n)` as a function of n, for minting many codes of one short link: the first number's
        part of a code depends only on it and the lottery character, so it is worked out once per lottery here
        rather than once per code."""
        if type(first_number) is not int or first_number < 0:
            return lambda second_number: self.encode(first_number, second_number)
        length, separators, min_length, padded = self._length, self._separators, self._min_length, self._padded
        heads = []
        for lottery, first_alphabet, second_alphabet, padding in self._tables:
            first = _hash(first_number, first_alphabet, length)
            separator = separators[(first_number % ord(first[0])) % len(separators)]
            heads.append((lottery + first + separator, second_alphabet, padding))
        first_hash = first_number % 100

        def encode(second_number: int) -> str:
            if type(second_number) is not int or second_number < 0:
                return self.encode(first_number, second_number)
            values_hash = first_hash + second_number % 101
            head, second_alphabet, padding = heads[values_hash % length]
            encoded = head + _hash(second_number, second_alphabet, length)
            return encoded if len(encoded) >= min_length else padded(encoded, values_hash, padding)

        return encode

    def _padded(self, encoded: str, values_hash: int, padding: tuple[str, ...]) -> str:
        """hashids' _ensure_length, with the successive alphabets it pads with computed once per lottery."""
        guards, min_length = self._guards, self._min_length
        encoded = guards[(values_hash + ord(encoded[0])) % len(guards)] + encoded
        if len(encoded) < min_length:
            encoded += guards[(values_hash + ord(encoded[2])) % len(guards)]
        split_at = self._length // 2
        for alphabet in padding:
            if len(encoded) >= min_length:
                break
            encoded = alphabet[split_at:] + encoded + alphabet[:split_at]
            excess = len(encoded) - min_length
            if excess > 0:
                encoded = encoded[excess // 2 : excess // 2 + min_length]
        return encoded


def _hash(number: int, alphabet: str, length: int) -> str:
    digits = []
    while True:
        number, digit = divmod(number, length)
        digits.append(alphabet[digit])
        if not number:
            return "".join(reversed(digits))


def _positions(alphabet: str) -> dict[str, int]:
    return {character: position for position, character in enumerate(alphabet)}


def _unhash(hashed: str, positions: dict[str, int]) -> int | None:
    number, base = 0, len(positions)
    for character in hashed:
        position = positions.get(character)
        if position is None:
            return None
        number = number * base + position
    return number


@lru_cache(maxsize=4)
def _pair_encoder(salt: str, alphabet: str, min_length: int) -> PairEncoder:
    return PairEncoder(_codec(salt, alphabet, min_length))


@lru_cache(maxsize=1)
def pair_encoder() -> PairEncoder:
    """The encoder of the current settings (read once: each click decodes a code)."""
    return _pair_encoder(settings.HASHIDS_SALT, settings.SHORT_CODE_ALPHABET, settings.SHORT_CODE_MIN_LENGTH)


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    pair_encoder.cache_clear()  # the settings change in tests only


def encode(short_link_id: int, message_id: int | None) -> str:
    return pair_encoder().encode(short_link_id, message_id or 0)


def decode(code: str) -> tuple[int, int] | None:
    """(short link id, message id) for a code this system minted, else None. Never raises."""
    if not code or len(code) > MAX_CODE_LENGTH or not code.isascii():
        return None
    encoder = pair_encoder()
    numbers = encoder.decode(code.upper() if encoder.single_case else code)
    # Ids are 64-bit in the database; a larger number cannot be ours and would fail a query.
    if numbers is None or max(numbers) >= 2**63:
        return None
    return numbers
