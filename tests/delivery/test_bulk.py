"""COPY writes what PostgreSQL can store: a NUL character in a text or JSON value (a webhook body the gateway log
keeps, say) is written as U+FFFD instead of failing the whole batch. An array literal reads back as its values."""

from datetime import UTC

from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.bulk import array_text, copy_text


def test_a_nul_in_text_or_json_is_written_as_a_replacement_character():
    assert copy_text("a\x00b\tc") == "a\ufffdb\\tc"
    assert copy_text({"k\x00": ["v\x00", 1]}) == '{"k\\\\ufffd": ["v\\\\ufffd", 1]}'


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.one_of(st.none(), st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))),
    numbers=st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))),
    moments=st.lists(st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)))),
)
def test_an_array_literal_reads_back_as_the_values_it_was_made_of(postgres, texts, numbers, moments):
    # given lists of text, numbers and times (NULLs among them), each written as one array literal, when
    # PostgreSQL reads them as arrays, then it reads the same values
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bigint[], %s::timestamptz[]",
            [array_text(texts), array_text(numbers), array_text(moments)],
        )
        assert cursor.fetchone() == (texts, numbers, moments)
