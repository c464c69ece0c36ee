"""Redacting the gateway log: a text without a field separator is returned as it is, exactly what the search for
credential fields would have left of it."""

from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.gateways.base import _SECRET_FIELDS, redact

PIECES = st.sampled_from(
    ["authorization", "X-Api-Key", "password", "api_key", "auth_token", "secret", "Bearer ", "basic ", "app ", "=",
     ":", " ", '"', "'", "***", "abc123", "&", ",", "}"]
)  # fmt: skip
TEXTS = st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=12).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=TEXTS)
def test_a_text_is_redacted_as_the_credential_fields_search_redacts_it(text):
    assert redact(text, []) == _SECRET_FIELDS.sub(lambda m: m.group(1) + "***", text)


def test_a_field_value_and_a_secret_are_redacted():
    assert redact("GET /send?api_key=k3y&to=1 token s3cr3t", ["s3cr3t"]) == "GET /send?api_key=***&to=1 token ***"
    assert redact("accepted as sim-t-1", []) == "accepted as sim-t-1"
