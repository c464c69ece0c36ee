"""SMS text for SMPP: GSM 03.38 (data_coding 0) or UCS-2 (data_coding 8), split into concatenated parts.

A part boundary never falls inside a GSM escape pair (ESC + extension character) or a UTF-16 surrogate pair:
the operator would show garbage, so the split happens before the pair and the part is one unit shorter.
"""

import random
from dataclasses import dataclass

DATA_CODING_GSM7 = 0
DATA_CODING_UCS2 = 8
ESM_CLASS_UDHI = 0x40

# GSM 03.38 basic character set, in code order (0x1B is the escape to the extension table).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E,
                  "|": 0x40, "€": 0x65}  # fmt: skip
_BASIC_CODES = {char: code for code, char in enumerate(GSM7_BASIC) if code != 0x1B}
_DECODE_EXTENSION = {code: char for char, code in GSM7_EXTENSION.items()}

# (single message, one part of a concatenated message), in units: septets or UTF-16 code units.
LIMITS = {DATA_CODING_GSM7: (160, 153), DATA_CODING_UCS2: (70, 67)}


@dataclass(frozen=True)
class EncodedSms:
    data_coding: int
    esm_class: int
    parts: list[bytes]  # each part's short_message, with its UDH when there are several


def _gsm7_units(char: str) -> bytes | None:
    if char in _BASIC_CODES:
        return bytes([_BASIC_CODES[char]])
    if char in GSM7_EXTENSION:
        return bytes([0x1B, GSM7_EXTENSION[char]])
    return None


def encode_units(text: str) -> tuple[int, list[bytes]]:
    """The data coding, and each character's encoded bytes (one GSM septet per octet, unpacked)."""
    gsm = [_gsm7_units(char) for char in text]
    if all(unit is not None for unit in gsm):
        return DATA_CODING_GSM7, gsm  # type: ignore[return-value]
    return DATA_CODING_UCS2, [char.encode("utf-16-be") for char in text]


def encode_sms(text: str, reference: int | None = None) -> EncodedSms:
    data_coding, units = encode_units(text)
    unit_size = 1 if data_coding == DATA_CODING_GSM7 else 2  # bytes per septet / per UTF-16 code unit
    single, per_part = LIMITS[data_coding]
    total = sum(len(u) for u in units) // unit_size
    if total <= single:
        return EncodedSms(data_coding, 0, [b"".join(units)])
    chunks: list[bytes] = []
    current, used = [], 0
    for unit in units:
        width = len(unit) // unit_size
        if used + width > per_part:  # the whole pair moves to the next part
            chunks.append(b"".join(current))
            current, used = [], 0
        current.append(unit)
        used += width
    chunks.append(b"".join(current))
    if len(chunks) > 255:
        raise ValueError("message too long for a concatenated SMS (more than 255 parts)")
    ref = random.randint(0, 255) if reference is None else reference
    parts = [bytes([0x05, 0x00, 0x03, ref, len(chunks), n]) + chunk for n, chunk in enumerate(chunks, start=1)]
    return EncodedSms(data_coding, ESM_CLASS_UDHI, parts)


def decode_gsm7(data: bytes) -> str:
    chars, escape = [], False
    for code in data:
        if escape:
            chars.append(_DECODE_EXTENSION.get(code, " "))
            escape = False
        elif code == 0x1B:
            escape = True
        else:
            chars.append(GSM7_BASIC[code])
    return "".join(chars)
