"""SMS length arithmetic: encoding, characters, segments and credits (GSM 03.38 and UCS-2)."""

import re
from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each) and the extension table (escape + char: two septets).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("\f^{}\\[~]|€")
GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION
# Any character outside the basic set: a text without one is one septet per character, which one scan of the text
# tells (building the set of its characters cost several times more, for every message of a campaign).
_OUTSIDE_GSM7_BASIC = re.compile("[^" + "".join(re.escape(char) for char in sorted(GSM7_BASIC)) + "]")

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsLength:
    encoding: str
    characters: int  # what the user sees
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def sms_length(text: str) -> SmsLength:
    if not _OUTSIDE_GSM7_BASIC.search(text):
        units = len(text)
        single, part = 160, 153
        encoding = GSM7
    elif (chars := set(text)) <= GSM7_ALL:
        units = len(text) + sum(text.count(char) for char in chars & GSM7_EXTENSION)
        single, part = 160, 153
        encoding = GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = UCS2
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    elif units == len(text):
        segments = -(-units // part)  # no escape or surrogate pair to keep whole: plain division
    else:
        segments = _parts(text, encoding, part)
    return SmsLength(encoding=encoding, characters=len(text), units=units, segments=segments)


def _parts(text: str, encoding: str, part_size: int) -> int:
    """Count parts the way a gateway splits: never an escape pair or a surrogate pair across two parts."""
    parts, used = 1, 0
    for char in text:
        if encoding == GSM7:
            width = 2 if char in GSM7_EXTENSION else 1
        else:
            width = 2 if ord(char) > 0xFFFF else 1
        if used + width > part_size:
            parts += 1
            used = 0
        used += width
    return parts
