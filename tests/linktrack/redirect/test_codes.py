"""Short codes: distinct per recipient, canonical, and decoding never raises on garbage."""

import random
import string

import pytest
from django.conf import settings
from hashids import Hashids

from linktrack.redirect import codes


def _hashids() -> Hashids:
    """The hashids package with the deployment's settings: what minted codes must agree with."""
    return Hashids(
        salt=settings.HASHIDS_SALT, min_length=settings.SHORT_CODE_MIN_LENGTH, alphabet=settings.SHORT_CODE_ALPHABET
    )


def test_default_code_is_ten_digits_and_capitals():
    code = codes.encode(1, 1)
    assert len(code) == 10 and set(code) <= set(string.digits + string.ascii_uppercase)


def test_each_recipient_of_a_link_gets_a_distinct_code_that_decodes_back():
    # given one link sent to 1,000 recipients
    code_by_message = {message_id: codes.encode(42, message_id) for message_id in range(1, 1001)}

    # then every code is different and decodes to its own (link, message)
    assert len(set(code_by_message.values())) == 1000
    assert all(codes.decode(code) == (42, message_id) for message_id, code in code_by_message.items())


def test_a_link_without_recipient_decodes_with_message_zero():
    assert codes.decode(codes.encode(7, None)) == (7, 0)


def test_codes_depend_on_the_secret_salt(settings):
    code = codes.encode(5, 9)
    settings.HASHIDS_SALT = "another-deployment-salt"
    assert codes.encode(5, 9) != code
    assert codes.decode(code) != (5, 9)


def test_lowercased_code_still_means_the_same_link():
    code = codes.encode(3, 11)
    assert codes.decode(code.lower()) == (3, 11)


def test_non_canonical_code_is_refused():
    # hashids decodes some strings it never produced: one more character, or three numbers, are not ours
    code = codes.encode(3, 11)
    assert codes.decode(code + "0") is None
    assert codes.decode(_hashids().encode(3, 11, 5)) is None
    assert codes.decode(_hashids().encode(3)) is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "é漢字🙂",
        "7383936D89\u200b",
        "A" * 41,
        "A" * 100_000,
        "\x00\x01\x02",
        "../../etc/passwd",
        "%00",
        "--------------",
        "0000000000",
        "ZZZZZZZZZZ",
        "abc def",
        "🙂" * 10,
    ],
)
def test_decode_never_raises_on_garbage(garbage):
    assert codes.decode(garbage) is None


def test_decode_never_raises_on_random_strings():
    rng = random.Random(1)
    alphabet = string.printable + "éü漢🙂"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 45)))
        assert codes.decode(text) in (None, codes.decode(text.upper()))


def test_code_of_numbers_beyond_database_ids_is_refused():
    assert codes.decode(_hashids().encode(2**63, 1)) is None
    assert codes.decode(_hashids().encode(1, 2**64)) is None
    assert codes.decode(_hashids().encode(2**63 - 1, 1)) == (2**63 - 1, 1)
