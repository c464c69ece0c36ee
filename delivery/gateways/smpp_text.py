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


# --- reading what a customer sends (deliver_sm) -----------------------------------------------------------------

# Single-byte character sets SMPP 3.4 names by data_coding; UCS-2 (8) and the GSM default (0) are read apart.
_SINGLE_BYTE_CODINGS = {1: "ascii", 3: "latin-1", 6: "iso8859-5", 7: "iso8859-8"}
_CONCATENATION_IES = {0x00: 3, 0x08: 4}  # 8-bit and 16-bit reference numbers: IE data length


@dataclass(frozen=True)
class ReceivedSms:
    text: str
    part: int = 1
    parts: int = 1  # more than 1: one part of a concatenated message, whose text alone is not the message


def decode_text(data: bytes, data_coding: int) -> str:
    """The text of a short_message in its data_coding; ValueError, in words, when it is not text this reads."""
    if data_coding & 0xF0 == 0xF0:  # message class codings: bit 2 says 8-bit data, otherwise the GSM alphabet
        if data_coding & 0x04:
            raise ValueError(f"data_coding 0x{data_coding:02X} is 8-bit data, not text")
        data_coding = DATA_CODING_GSM7
    if data_coding == DATA_CODING_GSM7:
        # SMSCs hand the default alphabet over one septet per octet; an octet above 0x7F means they sent Latin-1.
        return decode_gsm7(data) if all(code < 0x80 for code in data) else data.decode("latin-1")
    if data_coding == DATA_CODING_UCS2:
        if len(data) % 2:
            raise ValueError("UCS-2 text with an odd number of bytes")
        return data.decode("utf-16-be", errors="replace")
    if data_coding in _SINGLE_BYTE_CODINGS:
        return data.decode(_SINGLE_BYTE_CODINGS[data_coding], errors="replace")
    raise ValueError(f"data_coding 0x{data_coding:02X} is not a text coding this reads")


def decode_sms(data: bytes, *, data_coding: int, esm_class: int) -> ReceivedSms:
    """A received short_message: its user data header (esm_class UDHI) read for concatenation, then its text."""
    part, parts = 1, 1
    if esm_class & ESM_CLASS_UDHI:
        if not data or data[0] + 1 > len(data):
            raise ValueError("the user data header is longer than the message")
        header, data = data[1 : data[0] + 1], data[data[0] + 1 :]
        pos = 0
        while pos < len(header):
            if pos + 2 > len(header) or pos + 2 + header[pos + 1] > len(header):
                raise ValueError("the user data header is malformed")
            element, length = header[pos], header[pos + 1]
            if _CONCATENATION_IES.get(element) == length:
                parts, part = header[pos + 2 + length - 2], header[pos + 2 + length - 1]
            pos += 2 + length
    return ReceivedSms(decode_text(data, data_coding), part, parts)
