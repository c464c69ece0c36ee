"""COPY writes what PostgreSQL can store: a NUL character in a text or JSON value (a webhook body the gateway log
keeps, say) is written as U+FFFD instead of failing the whole batch."""

from delivery.bulk import copy_text


def test_a_nul_in_text_or_json_is_written_as_a_replacement_character():
    assert copy_text("a\x00b\tc") == "a\ufffdb\\tc"
    assert copy_text({"k\x00": ["v\x00", 1]}) == '{"k\\\\ufffd": ["v\\\\ufffd", 1]}'
