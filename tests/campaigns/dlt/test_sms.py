"""SMS length: GSM-7 septets (extension characters count 2), UCS-2 in UTF-16 units, segments as gateways split."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.dlt.sms_length import GSM7, GSM7_BASIC, GSM7_EXTENSION, UCS2, sms_length


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM7, 0, 0),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("€" * 80, GSM7, 160, 1),
        ("€" * 81, GSM7, 162, 2),
        ("^{}\\[~]|€\f", GSM7, 20, 1),
        ("Çç", UCS2, 2, 1),
        ("क" * 70, UCS2, 70, 1),
        ("क" * 71, UCS2, 71, 2),
        ("क" * 134, UCS2, 134, 2),
        ("क" * 135, UCS2, 135, 3),
        ("😀" * 35, UCS2, 70, 1),
        ("a" + "😀" * 35, UCS2, 71, 2),
    ],
)
def test_length_encoding_and_segments(text, encoding, units, segments):
    length = sms_length(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)
    assert length.characters == len(text)


def test_an_escape_pair_is_never_split_across_parts():
    # 152 plain septets then an extension character: it would straddle parts 1 and 2, so it moves to part 2,
    # and the next 152 + 1 fit there
    assert sms_length("a" * 152 + "€" + "a" * 151).segments == 2
    assert sms_length("a" * 152 + "€" + "a" * 152).segments == 3


def test_a_surrogate_pair_is_never_split_across_parts():
    assert sms_length("क" * 66 + "😀" + "क" * 65).segments == 2
    assert sms_length("क" * 66 + "😀" + "क" * 66).segments == 3


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        st.one_of(
            st.sampled_from(sorted(GSM7_BASIC)),
            st.sampled_from(sorted(GSM7_EXTENSION)),
            st.characters(exclude_categories=["Cs"]),
        ),
        max_size=400,
    )
)
def test_the_units_are_septets_for_gsm7_text_and_utf16_units_for_the_rest(text):
    # whatever the text mixes (basic characters, escapes, any other character), the units are counted as defined
    if set(text) <= GSM7_BASIC | GSM7_EXTENSION:
        expected = (GSM7, len(text) + sum(char in GSM7_EXTENSION for char in text))
    else:
        expected = (UCS2, len(text.encode("utf-16-le")) // 2)
    length = sms_length(text)
    assert (length.encoding, length.units) == expected
