"""The fast two-number encoder mints exactly the codes the hashids package mints, and reads exactly the codes it
reads, so existing links keep working."""

import random
import string

import pytest
from hashids import Hashids

from linktrack.redirect import codes

CONFIGURATIONS = [
    # (salt, alphabet, min_length): the deployment's default, the package's default alphabet, no padding, padding
    # of several rounds, a small alphabet, and an alphabet short of separators.
    ("insecure-dev-only-salt-change-me", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10),
    ("another secret salt", Hashids.ALPHABET, 10),
    ("s", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 0),
    ("long padding", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 40),
    ("", "abcdefghijklmnop", 25),
    ("tiny", "0123456789abcdef", 12),
    ("x" * 80, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 8),
]


def random_pairs(rng: random.Random, count: int) -> list[tuple[int, int]]:
    def number() -> int:
        return rng.choice(
            [rng.randrange(0, 10), rng.randrange(0, 10**6), rng.randrange(0, 10**12), rng.randrange(2**64)]
        )

    return [(number(), number()) for _ in range(count)]


@pytest.mark.parametrize(("salt", "alphabet", "min_length"), CONFIGURATIONS)
def test_the_pair_encoder_mints_the_codes_hashids_mints(salt, alphabet, min_length):
    # given hashids and the pair encoder for the same salt, alphabet and minimum length
    reference = Hashids(salt=salt, min_length=min_length, alphabet=alphabet)
    fast = codes.PairEncoder(Hashids(salt=salt, min_length=min_length, alphabet=alphabet))
    pairs = random_pairs(random.Random(f"{salt}:{min_length}"), 4000)
    pairs += [(0, 0), (1, 0), (0, 1), (2**63 - 1, 2**63 - 1)] + [(a, b) for a in range(30) for b in range(120)]

    # when both encode every pair, then every code is the same and decodes back to its pair
    for a, b in pairs:
        code = fast.encode(a, b)
        assert code == reference.encode(a, b), (a, b)
        assert reference.decode(code) == (a, b)


def test_what_hashids_does_not_encode_is_left_to_hashids():
    fast = codes.PairEncoder(Hashids(salt="s", min_length=10))
    assert fast.encode(-1, 5) == "" and fast.encode(5, -1) == ""
    assert fast.encode(True, 2) == Hashids(salt="s", min_length=10).encode(True, 2)


def test_the_codes_of_the_deployment_are_those_of_hashids_with_its_settings(settings):
    settings.HASHIDS_SALT, settings.SHORT_CODE_MIN_LENGTH = "deployment salt", 12
    reference = Hashids(salt="deployment salt", min_length=12, alphabet=settings.SHORT_CODE_ALPHABET)
    for a, b in [*random_pairs(random.Random(7), 500), (5, None)]:
        assert codes.encode(a, b) == reference.encode(a, b or 0)
        assert codes.decode(codes.encode(a, b)) == ((a, b or 0) if max(a, b or 0) < 2**63 else None)


@pytest.mark.parametrize(("salt", "alphabet", "min_length"), CONFIGURATIONS)
def test_the_pair_decoder_reads_what_hashids_reads_and_nothing_else(salt, alphabet, min_length):
    # given hashids and the pair encoder for the same settings, and inputs: real codes, codes with one character
    # changed, added or dropped, codes of one or three numbers, and random strings of the alphabet and beyond
    reference = Hashids(salt=salt, min_length=min_length, alphabet=alphabet)
    fast = codes.PairEncoder(Hashids(salt=salt, min_length=min_length, alphabet=alphabet))
    rng = random.Random(f"decode:{salt}:{min_length}")
    inputs = []
    for a, b in random_pairs(rng, 1500):
        code = reference.encode(a, b)
        at = rng.randrange(len(code))
        inputs += [code, code[:at] + rng.choice(alphabet) + code[at + 1 :], code + rng.choice(alphabet), code[1:]]
    inputs += [reference.encode(7), reference.encode(1, 2, 3), reference.encode(5, 6, 7, 8)]
    for length in range(1, 30):
        inputs.append("".join(rng.choices(alphabet, k=length)))
        inputs.append("".join(rng.choices(string.printable, k=length)))

    # then the pair decoder answers exactly what hashids answers for two numbers, and None otherwise
    for text in inputs:
        expected = reference.decode(text)
        assert fast.decode(text) == (expected if len(expected) == 2 else None), text


@pytest.mark.parametrize(("salt", "alphabet", "min_length"), CONFIGURATIONS)
def test_a_links_encoder_mints_the_codes_of_the_pair_encoder(salt, alphabet, min_length):
    # given the pair encoder and, for a few short links, the encoder made for each link
    fast = codes.PairEncoder(Hashids(salt=salt, min_length=min_length, alphabet=alphabet))
    rng = random.Random(f"links:{salt}:{min_length}")
    links = [0, 1, 99, 100, 101, 2**63 - 1, *(a for a, _ in random_pairs(rng, 20))]
    messages = [0, 1, 100, 101, 2**63 - 1, *range(1000, 1400), *(b for _, b in random_pairs(rng, 300))]

    # when each link's encoder encodes many message ids, then each code is the pair encoder's for that pair
    for link in links:
        encode = fast.encoder_for(link)
        for message in messages:
            assert encode(message) == fast.encode(link, message), (link, message)
    assert fast.encoder_for(-1)(5) == fast.encode(-1, 5) == ""
    assert fast.encoder_for(5)(-1) == ""
